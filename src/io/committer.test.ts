import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ErrorCode, isTsmrError } from '../errors.ts';
import {
  abortJob,
  attemptDir,
  commitJob,
  commitTask,
  discardAttempt,
  discardOutput,
  overwriteRefusal,
  prepareOutput,
} from './committer.ts';

let root: string;
let n = 0;
const fresh = () => path.join(root, `out${n++}`);
before(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'tsmr-committer-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Writes `files` (name → content) as the output of one attempt. */
async function runAttempt(out: string, taskId: string, attempt: number, files: Record<string, string>) {
  const dir = attemptDir(out, taskId, attempt);
  await mkdir(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) await writeFile(path.join(dir, name), content);
}

function usage(why: RegExp) {
  return (e: unknown) => {
    assert.ok(isTsmrError(e), String(e));
    assert.equal(e.code, ErrorCode.USAGE);
    assert.match(e.message, why);
    return true;
  };
}

describe('prepareOutput', () => {
  test('creates the temporary layout', async () => {
    const out = fresh();
    await prepareOutput(out, { overwrite: false, inputs: [] });
    assert.deepEqual(await readdir(path.join(out, '_temporary')), ['attempts', 'committed']);
    assert.equal(attemptDir(out, 'r-00003', 2), path.join(out, '_temporary/attempts/r-00003_2'));
  });

  test('an existing directory is TSMR_OUTPUT_EXISTS unless overwrite, which replaces it', async () => {
    const out = fresh();
    await mkdir(out);
    await writeFile(path.join(out, 'part-r-00000'), 'old');
    await assert.rejects(prepareOutput(out, { overwrite: false, inputs: [] }), (e: unknown) => {
      assert.ok(isTsmrError(e) && e.code === ErrorCode.OUTPUT_EXISTS);
      assert.equal(e.message, `the output directory ${out} exists; pass --overwrite to replace it`);
      return true;
    });
    assert.ok(existsSync(path.join(out, 'part-r-00000')));
    const prepared = await prepareOutput(out, { overwrite: true, inputs: [path.join(root, 'elsewhere')] });
    assert.equal(prepared.replacing, true);
    assert.deepEqual((await readdir(out)).sort(), ['_temporary', 'part-r-00000'], 'the old output stays');
  });

  test('an output path whose parent is a file, or that is a file, is a usage error', async () => {
    const file = path.join(fresh(), 'file.txt');
    await mkdir(path.dirname(file));
    await writeFile(file, 'x');
    const opts = { overwrite: false, inputs: [] };
    await assert.rejects(prepareOutput(path.join(file, 'out'), opts), usage(/parent of it is a file/));
    await assert.rejects(prepareOutput(file, { ...opts, overwrite: true }), usage(/not a directory/));
    assert.equal(await readFile(file, 'utf8'), 'x');
  });

  test('overwrite refuses the current directory, its ancestors, the home directory and inputs', async () => {
    const base = fresh();
    const cwd = path.join(base, 'a', 'b');
    const input = path.join(base, 'data', 'in.txt');
    const home = path.join(base, 'home', 'me');
    await mkdir(cwd, { recursive: true });
    await mkdir(home, { recursive: true });
    await mkdir(path.dirname(input), { recursive: true });
    await writeFile(input, 'x\n');
    const savedCwd = process.cwd();
    const savedHome = process.env.HOME;
    process.chdir(cwd);
    process.env.HOME = home;
    try {
      const opts = { overwrite: true, inputs: [input] };
      await assert.rejects(prepareOutput(cwd, opts), usage(/current directory/));
      await assert.rejects(prepareOutput(path.join(base, 'a'), opts), usage(/current directory/));
      await assert.rejects(prepareOutput('..', opts), usage(/current directory/));
      await assert.rejects(prepareOutput(home, opts), usage(/home directory/));
      await assert.rejects(prepareOutput(path.join(base, 'home'), opts), usage(/home directory/));
      await assert.rejects(prepareOutput(path.join(base, 'data'), opts), usage(/input/));
      await assert.rejects(prepareOutput(input, opts), usage(/input/));
      const globbed = { overwrite: true, inputs: [path.join(base, 'data', '*.txt')] };
      await assert.rejects(prepareOutput(path.join(base, 'data'), globbed), usage(/input/));
      // Through a symbolic link to the input directory.
      await symlink(path.join(base, 'data'), path.join(base, 'link'));
      await assert.rejects(prepareOutput(path.join(base, 'link'), opts), usage(/input/));
    } finally {
      process.chdir(savedCwd);
      if (savedHome === undefined) delete process.env.HOME;
      else process.env.HOME = savedHome;
    }
    assert.ok(existsSync(input));
    assert.ok(existsSync(cwd));
    assert.ok(existsSync(home));
  });

  test('overwriteRefusal refuses the root directory (pure check, nothing deleted)', () => {
    const env = { home: '/home/me', cwd: '/work/x', inputs: ['/data/in.txt'] };
    assert.match(overwriteRefusal('/', env) ?? '', /root/);
    assert.match(overwriteRefusal('/home', env) ?? '', /home/);
    assert.match(overwriteRefusal('/work', env) ?? '', /current/);
    assert.match(overwriteRefusal('/data', env) ?? '', /input/);
    assert.equal(overwriteRefusal('/out', env), undefined);
    assert.equal(overwriteRefusal('/work/x/out', env), undefined);
    assert.equal(overwriteRefusal('/dat', env), undefined);
  });
});

describe('commitTask', () => {
  test('two attempts racing to commit: exactly one wins, the loser is deleted', async () => {
    for (let round = 0; round < 20; round++) {
      const out = fresh();
      await prepareOutput(out, { overwrite: false, inputs: [] });
      await runAttempt(out, 'r-00000', 0, { 'part-r-00000': 'attempt 0\n' });
      await runAttempt(out, 'r-00000', 1, round % 2 ? {} : { 'part-r-00000': 'attempt 1\n' });
      const results = await Promise.all([commitTask(out, 'r-00000', 0), commitTask(out, 'r-00000', 1)]);
      assert.equal(results.filter(Boolean).length, 1, `round ${round}: ${results}`);
      const winner = results.indexOf(true);
      assert.equal(existsSync(attemptDir(out, 'r-00000', 0)), false);
      assert.equal(existsSync(attemptDir(out, 'r-00000', 1)), false);
      const committed = path.join(out, '_temporary/committed/r-00000');
      if (winner === 0 || round % 2 === 0) {
        assert.equal(await readFile(path.join(committed, 'part-r-00000'), 'utf8'), `attempt ${winner}\n`);
      } else {
        assert.equal(existsSync(path.join(committed, 'part-r-00000')), false);
      }
    }
  });

  test('a late attempt loses; committing the winner again is harmless', async () => {
    const out = fresh();
    await prepareOutput(out, { overwrite: false, inputs: [] });
    await runAttempt(out, 'r-00001', 3, { 'part-r-00001': 'x' });
    assert.equal(await commitTask(out, 'r-00001', 3), true);
    assert.equal(await commitTask(out, 'r-00001', 3), true);
    await runAttempt(out, 'r-00001', 4, { 'part-r-00001': 'y' });
    assert.equal(await commitTask(out, 'r-00001', 4), false);
    assert.equal(existsSync(attemptDir(out, 'r-00001', 4)), false);
    // An attempt with no output commits an empty output.
    assert.equal(await commitTask(out, 'r-00002', 0), true);
  });

  test('discardAttempt deletes an attempt; bad task ids are refused', async () => {
    const out = fresh();
    await prepareOutput(out, { overwrite: false, inputs: [] });
    await runAttempt(out, 'r-00000', 0, { 'part-r-00000': 'x' });
    await discardAttempt(out, 'r-00000', 0);
    assert.equal(existsSync(attemptDir(out, 'r-00000', 0)), false);
    await discardAttempt(out, 'r-00000', 0);
    for (const [task, attempt] of [
      ['../x', 0],
      ['a/b', 0],
      ['', 0],
      ['r-1', -1],
      ['r-1', 1.5],
    ] as const) {
      assert.throws(
        () => attemptDir(out, task, attempt),
        (e: unknown) => isTsmrError(e),
      );
    }
  });
});

describe('commitJob and abortJob', () => {
  test('commitJob moves the committed files into place in task order, then _job.json and _SUCCESS', async () => {
    const out = fresh();
    const prepared = await prepareOutput(out, { overwrite: false, inputs: [] });
    for (const task of [10, 2, 0]) {
      const id = `r-${task}`;
      await runAttempt(out, id, 0, { [`part-r-${String(task).padStart(5, '0')}`]: `task ${task}\n` });
      assert.equal(await commitTask(out, id, 0), true);
    }
    await runAttempt(out, 'r-2', 1, { 'part-r-00002': 'loser\n' }); // a failed attempt, never committed
    const files = await commitJob(prepared, { jobId: 'j1', status: 'succeeded', bytes: 5n });
    assert.deepEqual(
      files,
      ['part-r-00000', 'part-r-00002', 'part-r-00010'].map((f) => path.join(out, f)),
    );
    assert.deepEqual((await readdir(out)).sort(), [
      '_SUCCESS',
      '_job.json',
      'part-r-00000',
      'part-r-00002',
      'part-r-00010',
    ]);
    assert.equal(await readFile(path.join(out, 'part-r-00002'), 'utf8'), 'task 2\n');
    assert.equal(await readFile(path.join(out, '_SUCCESS'), 'utf8'), '');
    assert.deepEqual(JSON.parse(await readFile(path.join(out, '_job.json'), 'utf8')), {
      jobId: 'j1',
      status: 'succeeded',
      bytes: '5',
    });
  });

  test('commitJob fails cleanly when two tasks wrote the same file: no part file is left', async () => {
    const out = fresh();
    const prepared = await prepareOutput(out, { overwrite: false, inputs: [] });
    await runAttempt(out, 'r-0', 0, { 'part-a': '0', 'part-b': '0' });
    await runAttempt(out, 'r-1', 0, { 'part-b': '1' });
    await commitTask(out, 'r-0', 0);
    await commitTask(out, 'r-1', 0);
    await assert.rejects(
      commitJob(prepared, {}),
      (e: unknown) => isTsmrError(e) && e.code === ErrorCode.INTERNAL,
    );
    await abortJob(prepared, { error: 'commit failed' });
    assert.deepEqual(await readdir(out), ['_job.json']);
  });

  test('a failed job leaves no part file and no _SUCCESS, only _job.json', async () => {
    const out = fresh();
    const prepared = await prepareOutput(out, { overwrite: false, inputs: [] });
    await runAttempt(out, 'r-0', 0, { 'part-r-00000': 'x' });
    await commitTask(out, 'r-0', 0);
    await runAttempt(out, 'r-1', 0, { 'part-r-00001': 'half' });
    await abortJob(prepared, { jobId: 'j2', error: { message: 'map failed' } });
    assert.deepEqual(await readdir(out), ['_job.json']);
    assert.deepEqual(JSON.parse(await readFile(path.join(out, '_job.json'), 'utf8')), {
      status: 'failed',
      jobId: 'j2',
      error: { message: 'map failed' },
    });
    // A late commit after the abort fails and does not bring _temporary back.
    await assert.rejects(
      commitTask(out, 'r-1', 0),
      (e: unknown) => isTsmrError(e) && e.code === ErrorCode.IO,
    );
    assert.deepEqual(await readdir(out), ['_job.json']);
  });

  test('abortJob removes only _temporary, and does nothing without an output directory', async () => {
    const out = fresh();
    const prepared = await prepareOutput(out, { overwrite: false, inputs: [] });
    await writeFile(path.join(out, 'notes.txt'), 'mine');
    await abortJob(prepared, { status: 'cancelled' });
    assert.deepEqual((await readdir(out)).sort(), ['_job.json', 'notes.txt']);
    assert.equal(JSON.parse(await readFile(path.join(out, '_job.json'), 'utf8')).status, 'cancelled');
    const missing = fresh();
    await abortJob({ dir: missing, replacing: false }, { status: 'failed' });
    assert.equal(existsSync(missing), false);
  });

  /** An output directory with yesterday's result in it. */
  async function oldOutput(): Promise<string> {
    const out = fresh();
    await mkdir(path.join(out, 'sub'), { recursive: true });
    await writeFile(path.join(out, 'part-r-00000'), 'old 0\n');
    await writeFile(path.join(out, 'part-r-00001'), 'old 1\n');
    await writeFile(path.join(out, 'sub', 'x'), 'old x\n');
    await writeFile(path.join(out, '_job.json'), '{"status":"succeeded","jobId":"yesterday"}\n');
    await writeFile(path.join(out, '_SUCCESS'), '');
    return out;
  }

  test('overwrite: the old output stays until the new job commits, then the new one replaces it whole', async () => {
    const out = await oldOutput();
    const prepared = await prepareOutput(out, { overwrite: true, inputs: [] });
    await runAttempt(out, 'r-00000', 0, { 'part-r-00000': 'new 0\n' });
    await commitTask(out, 'r-00000', 0);
    assert.equal(await readFile(path.join(out, 'part-r-00000'), 'utf8'), 'old 0\n', 'still readable');
    assert.ok(existsSync(path.join(out, '_SUCCESS')));
    await commitJob(prepared, { jobId: 'today', status: 'succeeded' });
    assert.deepEqual((await readdir(out)).sort(), ['_SUCCESS', '_job.json', 'part-r-00000']);
    assert.equal(await readFile(path.join(out, 'part-r-00000'), 'utf8'), 'new 0\n');
    assert.equal(JSON.parse(await readFile(path.join(out, '_job.json'), 'utf8')).jobId, 'today');
  });

  test('overwrite: a job that fails, before or after tasks committed, leaves the old output untouched', async () => {
    for (const when of ['before tasks', 'after a task commit', 'in job commit']) {
      const out = await oldOutput();
      const before = await readTree(out);
      const prepared = await prepareOutput(out, { overwrite: true, inputs: [] });
      if (when !== 'before tasks') {
        await runAttempt(out, 'r-0', 0, { 'part-r-00000': 'new\n', 'part-b': 'b' });
        await commitTask(out, 'r-0', 0);
      }
      if (when === 'in job commit') {
        await runAttempt(out, 'r-1', 0, { 'part-b': 'clash' }); // two tasks wrote part-b: commit fails
        await commitTask(out, 'r-1', 0);
        await assert.rejects(commitJob(prepared, {}), (e: unknown) => isTsmrError(e));
      }
      await abortJob(prepared, { status: 'failed', jobId: 'today' });
      assert.deepEqual(await readTree(out), before, when);
    }
  });

  test('overwrite: discardOutput keeps an old output, removes a new one', async () => {
    const out = await oldOutput();
    const before = await readTree(out);
    await discardOutput(await prepareOutput(out, { overwrite: true, inputs: [] }));
    assert.deepEqual(await readTree(out), before);
    const created = fresh();
    await discardOutput(await prepareOutput(created, { overwrite: false, inputs: [] }));
    assert.equal(existsSync(created), false);
  });
});

/** Every file below `dir` (relative path → content). */
async function readTree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    out[path.relative(dir, file)] = await readFile(file, 'utf8');
  }
  return out;
}
