import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import type { PhaseName, PhaseProgress, ProgressSnapshot } from '../engine/job-report.ts';
import { chooseProgressMode, createProgressDisplay, PLAIN_INTERVAL_MS } from './progress.ts';

/** A writable that records what is written; optionally claims to be a terminal. */
function capture(tty: { columns: number } | undefined): Writable & { text(): string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  if (tty) Object.assign(stream, { isTTY: true, columns: tty.columns });
  return Object.assign(stream, { text: () => chunks.join('') });
}

const ANSI = /\x1b\[[0-9;?]*[A-Za-z]|\x1b[78]/g; // eslint-disable-line no-control-regex

/**
 * Replays terminal output onto a screen, for the escape sequences Node's
 * readline emits (cursor moves, line and screen-down clears): what a person
 * would see once everything was drawn.
 */
function screen(output: string): string[] {
  const rows: string[][] = [[]];
  let x = 0;
  let y = 0;
  const row = () => (rows[y] ??= []);
  const token = /\x1b\[([0-9;?]*)([A-Za-z])|\x1b[78]|\n|\r|[^\x1b\n\r]/gu; // eslint-disable-line no-control-regex
  for (const [t, arg = '', cmd] of output.matchAll(token)) {
    const n = Number(arg) || 1;
    if (t === '\n') {
      y++;
      x = 0;
    } else if (t === '\r') x = 0;
    else if (cmd === 'A') y = Math.max(0, y - n);
    else if (cmd === 'B') y += n;
    else if (cmd === 'C') x += n;
    else if (cmd === 'D') x = Math.max(0, x - n);
    else if (cmd === 'G') x = n - 1;
    else if (cmd === 'K') row().splice(arg === '2' ? 0 : x);
    else if (cmd === 'J') rows.splice(y + 1);
    else if (cmd === undefined && !t.startsWith('\x1b')) row()[x++] = t;
    // other sequences (cursor save/show, wrapping) change nothing visible
  }
  row(); // the cursor's line
  return Array.from(rows, (r) =>
    Array.from(r ?? [], (c) => c ?? ' ')
      .join('')
      .trimEnd(),
  );
}

function phase(name: PhaseName, p: Partial<PhaseProgress> = {}): PhaseProgress {
  return {
    phase: name,
    tasksTotal: 0,
    tasksDone: 0,
    tasksRunning: 0,
    bytesTotal: 0,
    bytesDone: 0,
    records: 0,
    ...p,
  };
}

function snapshot(
  now: number,
  map: Partial<PhaseProgress>,
  reduce: Partial<PhaseProgress> = {},
  failedAttempts = 0,
): ProgressSnapshot {
  return {
    jobId: 'job-1',
    now,
    startedAt: 0,
    phases: { map: phase('map', map), reduce: phase('reduce', reduce) },
    failedAttempts,
    stalled: [],
    taskTimeoutMs: 600_000,
  };
}

const GB = 1e9;

/** Map phase started at t=1000, reading 50 MB/s and 100k records/s, 24 tasks of 1 GB in all. */
function mapAt(seconds: number): Partial<PhaseProgress> {
  return {
    tasksTotal: 24,
    tasksDone: Math.floor((24 * seconds) / 20),
    tasksRunning: 4,
    bytesTotal: GB,
    bytesDone: seconds * 50e6,
    records: seconds * 100_000,
    startedAt: 1000,
  };
}

describe('chooseProgressMode', () => {
  it('picks quiet, tty, plain; json is quiet only off a terminal', () => {
    assert.equal(chooseProgressMode({ quiet: true, isTTY: true }), 'quiet');
    assert.equal(chooseProgressMode({ isTTY: true }), 'tty');
    assert.equal(chooseProgressMode({ isTTY: true, json: true }), 'tty');
    assert.equal(chooseProgressMode({ isTTY: false }), 'plain');
    assert.equal(chooseProgressMode({ isTTY: false, json: true }), 'quiet');
    assert.equal(chooseProgressMode({}), 'plain');
  });
});

describe('tty progress', () => {
  it('draws a bar per phase with percent, tasks, rates and ETA', () => {
    const out = capture({ columns: 100 });
    const display = createProgressDisplay({ mode: 'tty', stream: out });
    for (let s = 0; s <= 8; s++) display.update(snapshot(1000 + s * 1000, mapAt(s), { tasksTotal: 8 }));
    display.stop();
    const lines = screen(out.text());
    // Two bars drawn in place (not 9 frames below each other), then a new line.
    assert.equal(lines.length, 3, lines.join('\n'));
    assert.equal(lines[2], '');
    // 400 MB of 1 GB at 50 MB/s: 40%, 12 s to go.
    assert.match(lines[0]!, /^map +\[█+░+\] +40% +9\/24 tasks +100k rec\/s +50\.0 MB\/s +ETA 12s$/);
    assert.match(lines[1]!, /^reduce +\[░+\] +0% +0\/8 {2}tasks +-- rec\/s +-- B\/s +waiting$/);
    for (const line of lines) assert.ok(line.length < 100, `fits the terminal: ${line}`);
    // The columns line up.
    for (const column of ['%', 'tasks', 'rec/s', 'B/s']) {
      assert.equal(lines[0]!.indexOf(column), lines[1]!.indexOf(column), column);
    }
  });

  it('shows finished phases, failed attempts on the active phase, and no reduce bar for map-only jobs', () => {
    const out = capture({ columns: 120 });
    const display = createProgressDisplay({ mode: 'tty', stream: out });
    display.update(snapshot(1000, mapAt(0)));
    display.update(snapshot(21_000, { ...mapAt(20), tasksDone: 24, finishedAt: 21_000 }, {}, 3));
    display.stop();
    display.update(snapshot(22_000, mapAt(20))); // ignored after stop
    const lines = screen(out.text());
    assert.equal(lines.length, 3, lines.join('\n'));
    assert.match(lines[0]!, /^map +\[█+\] 100% +24\/24 tasks +100k rec\/s +50\.0 MB\/s +done in 20s$/);
    assert.equal(lines[1], 'failed 3 attempts');
    assert.equal(lines[2], '');
  });

  it('narrows the bar on a narrow terminal', () => {
    const out = capture({ columns: 80 });
    const display = createProgressDisplay({ mode: 'tty', stream: out });
    display.update(snapshot(5000, mapAt(4)));
    display.stop();
    const [line] = screen(out.text());
    assert.ok(line!.length <= 79, line);
    assert.match(line!, /ETA 16s$/);
  });

  it('falls back to plain lines on a stream that is not a terminal', () => {
    const out = capture(undefined);
    const display = createProgressDisplay({ mode: 'tty', stream: out });
    display.update(snapshot(2000, mapAt(1)));
    display.stop();
    assert.equal(out.text(), 'map 5% 1/24 tasks started (954 MiB)\n');
    assert.doesNotMatch(out.text(), ANSI);
  });
});

describe('plain progress', () => {
  it('prints phase changes at once and otherwise at most one line every 5 s', () => {
    const out = capture(undefined);
    const display = createProgressDisplay({ mode: 'plain', stream: out });
    display.update(snapshot(500, { tasksTotal: 24, bytesTotal: GB })); // pending: nothing
    // Snapshots every 200 ms for 20 s of map.
    for (let t = 1000; t < 21_000; t += 200) display.update(snapshot(t, mapAt((t - 1000) / 1000)));
    // Map finishes and reduce starts in one snapshot: two lines, though < 5 s since the last.
    const mapDone = { ...mapAt(20), tasksDone: 24, finishedAt: 21_000 };
    display.update(snapshot(21_000, mapDone, { tasksTotal: 8, startedAt: 21_000 }, 2));
    for (let t = 21_200; t < 27_000; t += 200) {
      display.update(
        snapshot(t, mapDone, { tasksTotal: 8, startedAt: 21_000, records: (t - 21_000) * 10 }, 2),
      );
    }
    display.stop();
    display.update(snapshot(40_000, mapDone, { tasksTotal: 8, finishedAt: 40_000, startedAt: 21_000 }));

    const lines = out.text().trimEnd().split('\n');
    assert.deepEqual(
      lines.map((l) => l.split(' ').slice(0, 2).join(' ')),
      ['map 0%', 'map 25%', 'map 50%', 'map 75%', 'map 100%', 'reduce 0%', 'reduce 0%'],
    );
    assert.equal(lines[0], 'map 0% 0/24 tasks started (954 MiB)');
    // At t=6000: 5 s in, 250 MB of 1 GB at 50 MB/s.
    assert.equal(lines[1], 'map 25% 6/24 tasks 100k rec/s 50.0 MB/s ETA 15s');
    assert.equal(lines[4], 'map 100% 24/24 tasks 100k rec/s 50.0 MB/s done in 20.0 s');
    assert.equal(lines[5], 'reduce 0% 0/8 tasks started (2 failed attempts)');
    // Reduce bytes unknown: percent by tasks, no ETA.
    assert.equal(lines[6], 'reduce 0% 0/8 tasks 10.0k rec/s 0 B/s ETA -- (2 failed attempts)');
  });

  it('uses the snapshot clock only (a stale clock prints nothing new)', () => {
    const out = capture(undefined);
    const display = createProgressDisplay({ mode: 'plain', stream: out });
    for (let i = 0; i < 100; i++) display.update(snapshot(3000, mapAt(2)));
    display.update(snapshot(3000 + PLAIN_INTERVAL_MS - 1, mapAt(2)));
    assert.equal(out.text().split('\n').filter(Boolean).length, 1);
    display.update(snapshot(3000 + PLAIN_INTERVAL_MS, mapAt(2)));
    assert.equal(out.text().split('\n').filter(Boolean).length, 2);
    display.stop();
  });
});

describe('stalled attempts', () => {
  const stalledAt = (now: number, ids: string[]): ProgressSnapshot => ({
    ...snapshot(now, mapAt(2)),
    stalled: ids.map((attemptId, i) => ({ attemptId, worker: 'local', idleMs: 42_000 - i * 1000 })),
    taskTimeoutMs: 60_000,
  });

  it('plain: a line naming them whenever the set changes', () => {
    const out = capture(undefined);
    const display = createProgressDisplay({ mode: 'plain', stream: out });
    display.update(stalledAt(3000, []));
    display.update(stalledAt(3200, ['m-00003_0']));
    display.update(stalledAt(3400, ['m-00003_0']));
    display.update(stalledAt(3600, ['m-00003_0', 'm-00007_1', 'm-00008_0', 'm-00009_2']));
    display.stop();
    const lines = out.text().trimEnd().split('\n');
    assert.deepEqual(lines.slice(1), [
      'stalled (no progress; killed at 1 min 00 s): m-00003_0 42.0 s',
      'stalled (no progress; killed at 1 min 00 s): m-00003_0 42.0 s, m-00007_1 41.0 s, m-00008_0 40.0 s, 1 more',
    ]);
  });

  it('tty: a line while some are stalled, gone when none is', () => {
    const out = capture({ columns: 200 });
    const display = createProgressDisplay({ mode: 'tty', stream: out });
    display.update(stalledAt(3000, ['m-00003_0']));
    assert.ok(screen(out.text()).includes('stalled (no progress; killed at 1 min 00 s): m-00003_0 42.0 s'));
    display.update(stalledAt(3200, []));
    display.stop();
    assert.ok(!screen(out.text()).some((l) => l.startsWith('stalled')), screen(out.text()).join('\n'));
  });
});

describe('extra lines (the worker table)', () => {
  it('tty: drawn below the bars and redrawn in place; lines that go stay blank', () => {
    const out = capture({ columns: 120 });
    let extra = ['worker  state', 'local   alive'];
    const display = createProgressDisplay({ mode: 'tty', stream: out, extraLines: () => extra });
    display.update(snapshot(2000, mapAt(1), { tasksTotal: 8 }));
    extra = ['worker  state'];
    display.update(snapshot(3000, mapAt(2), { tasksTotal: 8 }));
    display.stop();
    const lines = screen(out.text());
    assert.deepEqual(lines.slice(2), ['worker  state', '', ''], lines.join('\n'));
  });

  it('plain: printed after each progress line', () => {
    const out = capture(undefined);
    const display = createProgressDisplay({ mode: 'plain', stream: out, extraLines: () => ['local alive'] });
    display.update(snapshot(2000, mapAt(1)));
    display.stop();
    assert.deepEqual(out.text().trimEnd().split('\n'), [
      'map 5% 1/24 tasks started (954 MiB)',
      'local alive',
    ]);
  });
});

describe('quiet progress', () => {
  it('writes nothing', () => {
    const out = capture({ columns: 80 });
    const display = createProgressDisplay({ mode: 'quiet', stream: out });
    display.update(snapshot(2000, mapAt(1)));
    display.stop();
    assert.equal(out.text(), '');
  });
});

describe('pipeline steps', () => {
  const ofStep = (s: ProgressSnapshot, index: number, name: string): ProgressSnapshot => ({
    ...s,
    step: { index, count: 2, name },
  });

  it('tty: a header line per step, the bars of a finished step stay above the next', () => {
    const out = capture({ columns: 100 });
    const display = createProgressDisplay({ mode: 'tty', stream: out });
    const done = {
      tasksTotal: 2,
      tasksDone: 2,
      bytesTotal: 10,
      bytesDone: 10,
      startedAt: 0,
      finishedAt: 500,
    };
    display.update(ofStep(snapshot(100, mapAt(0.1)), 1, 'count'));
    display.update(ofStep(snapshot(1000, done, done), 1, 'count'));
    display.update(ofStep(snapshot(1100, { tasksTotal: 3, startedAt: 1100 }), 2, 'top'));
    display.stop();
    const lines = screen(out.text()).filter((l) => l !== '');
    // Step 2's reduce phase has no tasks yet: no bar.
    assert.equal(lines.length, 5, JSON.stringify(lines));
    assert.equal(lines[0], 'step 1/2 count');
    assert.match(lines[1]!, /^map +\[█+\] +100% +2\/2 tasks .* done in /);
    assert.match(lines[2]!, /^reduce +\[█+\] +100% +2\/2 tasks .* done in /);
    assert.equal(lines[3], 'step 2/2 top');
    assert.match(lines[4]!, /^map +\[░+\] +0% +0\/3 tasks /);
  });

  it('plain: the header line before the step’s phase lines; snapshots without a step get none', () => {
    const out = capture(undefined);
    const display = createProgressDisplay({ mode: 'plain', stream: out });
    display.update(ofStep(snapshot(100, mapAt(0.1)), 1, 'count'));
    display.update(ofStep(snapshot(200, { tasksTotal: 1, startedAt: 200 }), 2, 'top'));
    display.stop();
    const lines = out.text().trimEnd().split('\n');
    assert.deepEqual(
      lines.map((l) => l.split(' ').slice(0, 2).join(' ')),
      ['step 1/2', 'map 0%', 'step 2/2', 'map 0%'],
    );
    const single = capture(undefined);
    const job = createProgressDisplay({ mode: 'plain', stream: single });
    job.update(snapshot(100, mapAt(0.1)));
    job.update(snapshot(7000, mapAt(6)));
    job.stop();
    assert.ok(!single.text().includes('step'), single.text());
  });
});
