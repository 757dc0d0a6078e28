import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JobReport } from '../engine/job-report.ts';
import { serializeError, TsmrError } from '../errors.ts';
import { formatReport, formatSkippedInputs, MAX_REPORT_COUNTERS, MAX_REPORT_WORKERS } from './report.ts';

const MiB = 2 ** 20;

function succeeded(): JobReport {
  return {
    jobId: 'j-1f3a',
    name: 'wordcount',
    status: 'succeeded',
    startedAt: 1_000,
    finishedAt: 13_400,
    durationMs: 12_400,
    settings: {
      inputs: ['.data/corpus'],
      output: 'out/wordcount',
      workers: 8,
      reducers: 8,
      splitSize: 64 * MiB,
      sortBufferBytes: 64 * MiB,
      mergeFanIn: 64,
      maxAttempts: 4,
      taskTimeoutMs: 600_000,
      params: {},
    },
    phases: {
      map: {
        tasks: 24,
        startedAt: 1_100,
        finishedAt: 11_300,
        durationMs: 10_200,
        inputBytes: 2 ** 30,
        inputRecords: 12_345_678,
        outputRecords: 1_234_567,
        throughputMBps: 105.27,
      },
      reduce: {
        tasks: 8,
        startedAt: 11_300,
        finishedAt: 13_400,
        durationMs: 2_100,
        inputBytes: 80.3 * MiB,
        inputRecords: 1_234_567,
        outputRecords: 45_678,
        throughputMBps: 40.1,
      },
    },
    counters: { 'wordcount/words': 12_345_678, 'wordcount/empty-lines': 321, 'tsmr/spills': 48 },
    attempts: [
      { taskId: 'm-00000', attempt: 0, worker: 'local-1', startedAt: 0, status: 'failed' },
      { taskId: 'm-00000', attempt: 1, worker: 'local-2', startedAt: 0, status: 'committed' },
      { taskId: 'm-00001', attempt: 0, worker: 'local-3', startedAt: 0, status: 'committed' },
      { taskId: 'm-00001', attempt: 1, worker: 'local-4', startedAt: 0, status: 'killed' },
    ],
    workers: [
      {
        workerId: 'local',
        slots: 8,
        tasks: 32,
        attempts: 34,
        failedAttempts: 1,
        killedAttempts: 1,
        busyMs: 91_300,
        records: 12_345_678,
        bytes: 1.1 * 2 ** 30,
      },
    ],
    duplicateCompletions: 1,
    outputFiles: Array.from({ length: 8 }, (_, i) => `out/wordcount/part-r-0000${i}`),
    outputBytes: 1.2 * MiB,
    outputRecords: 45_678,
    peakRssBytes: 412.3 * MiB,
    validation: {
      inputBytesMatch: true,
      shuffleRecordsMatch: true,
      checksumsVerified: 192,
      verifiedAgainstSequential: true,
    },
  };
}

describe('formatReport', () => {
  it('summarizes a succeeded job in aligned, human lines', () => {
    const text = formatReport(succeeded());
    assert.ok(text.endsWith('\n'));
    const lines = text.trimEnd().split('\n');
    assert.ok(lines.length >= 10 && lines.length <= 30, `${lines.length} lines`);
    assert.deepEqual(lines, [
      'tsmr: job wordcount succeeded in 12.4 s',
      '  job id      j-1f3a  (8 workers, 8 reducers, 64 MiB splits)',
      '  map         24 tasks  10.2 s     1 GiB  12,345,678 records   105 MB/s',
      '  reduce       8 tasks   2.1 s  80.3 MiB   1,234,567 records  40.1 MB/s',
      '  records     12,345,678 in, 45,678 out',
      '  output      8 files, 1.2 MiB in out/wordcount',
      '  attempts    4: 1 failed, 1 killed, 2 retried, 1 duplicate completion',
      '  workers     local  8 slots  32 tasks  34 attempts  1 failed  busy 1 min 31 s (92%)  12,345,678 records  1.1 GiB',
      '  validation  input bytes match, shuffle records match, 192 checksums verified, output identical to a sequential run',
      '  peak RSS    412 MiB',
      '  counters    tsmr/spills                    48',
      '              wordcount/empty-lines         321',
      '              wordcount/words        12,345,678',
    ]);
  });

  it('names the error, the task, the attempt, the input position and the causes of a failed job', () => {
    const userError = new TypeError(
      "Cannot read properties of undefined (reading 'x')\n    at map (job.ts:3:7)",
    );
    const attemptError = new TsmrError('TSMR_USER_CODE', 'map threw', {
      cause: userError,
      details: { taskId: 'm-00003', attempt: 3, file: '/data/in.txt', offset: 123_456 },
    });
    const jobError = new TsmrError('TSMR_TASK_FAILED', 'task m-00003 failed 4 times; fix the map function', {
      cause: attemptError,
    });
    const report: JobReport = {
      ...succeeded(),
      status: 'failed',
      durationMs: 3_200,
      phases: { map: succeeded().phases.map },
      counters: {},
      outputFiles: [],
      outputBytes: 0,
      outputRecords: 0,
      validation: { inputBytesMatch: true, shuffleRecordsMatch: false, checksumsVerified: 0 },
      error: serializeError(jobError),
    };
    const lines = formatReport(report).trimEnd().split('\n');
    assert.equal(lines[0], 'tsmr: job wordcount FAILED after 3.2 s');
    assert.ok(lines.includes('  reduce      not run'));
    assert.ok(lines.includes('  validation  shuffle not checked (reduce did not run), 0 checksums verified'));
    assert.ok(!lines.some((l) => l.includes('counters')), 'no counters line without counters');
    assert.deepEqual(lines.slice(-5), [
      '  error       TSMR_TASK_FAILED: task m-00003 failed 4 times; fix the map function',
      '  task        m-00003, attempt 3',
      '  input       /data/in.txt at byte 123,456',
      '  cause       TSMR_USER_CODE: map threw',
      "  cause       TypeError: Cannot read properties of undefined (reading 'x')",
    ]);
  });

  it('shows differences found by validation and a cancelled status', () => {
    const report: JobReport = {
      ...succeeded(),
      status: 'cancelled',
      validation: {
        inputBytesMatch: false,
        shuffleRecordsMatch: false,
        checksumsVerified: 3,
        verifiedAgainstSequential: false,
      },
      error: serializeError(new TsmrError('TSMR_CANCELLED', 'cancelled by SIGINT')),
    };
    const text = formatReport(report);
    assert.match(text, /^tsmr: job wordcount cancelled in 12\.4 s$/m);
    assert.match(
      text,
      /^ {2}validation {2}INPUT BYTES DIFFER from the splits planned, SHUFFLE RECORD COUNTS DIFFER, 3 checksums verified, OUTPUT DIFFERS from a sequential run$/m,
    );
    assert.match(text, /^ {2}error {7}TSMR_CANCELLED: cancelled by SIGINT$/m);
  });

  it('warns about skipped input entries, naming the first three and counting the rest', () => {
    const listed = ['a', 'b', 'c', 'd'].map((n) => ({ path: `/in/${n}`, reason: 'fifo' as const }));
    const one = formatReport({ ...succeeded(), inputsSkipped: { count: 1, listed: listed.slice(0, 1) } });
    assert.match(one, /^ {2}warning {5}skipped 1 input entry that holds nothing to read: \/in\/a \(fifo\)$/m);
    assert.equal(
      formatSkippedInputs({ count: 250, listed }),
      'skipped 250 input entries that hold nothing to read: /in/a (fifo), /in/b (fifo), /in/c (fifo), … 247 more in _job.json',
    );
    assert.doesNotMatch(formatReport(succeeded()), /warning/);
  });

  it('lists a bounded number of counters, sorted by group and name', () => {
    const counters: Record<string, number> = {};
    for (let i = 0; i < 20; i++) counters[`g${i % 2}/c${String(i).padStart(2, '0')}`] = i;
    const lines = formatReport({ ...succeeded(), counters })
      .trimEnd()
      .split('\n');
    const counterLines = lines.slice(lines.findIndex((l) => l.startsWith('  counters')));
    assert.equal(counterLines.length, MAX_REPORT_COUNTERS + 1);
    assert.match(counterLines[0]!, /^ {2}counters {4}g0\/c00 +0$/);
    assert.match(counterLines[1]!, /^ {14}g0\/c02 +2$/);
    assert.equal(counterLines.at(-1), `              … ${20 - MAX_REPORT_COUNTERS} more in _job.json`);
    assert.ok(lines.length <= 30);
  });

  it('lists workers in aligned columns, at most MAX_REPORT_WORKERS of them', () => {
    const worker = succeeded().workers[0]!;
    const workers = Array.from({ length: MAX_REPORT_WORKERS + 2 }, (_, i) => ({
      ...worker,
      workerId: `w-${i}`,
      slots: i === 0 ? 16 : 4,
      tasks: i,
    }));
    const lines = formatReport({ ...succeeded(), workers }).split('\n');
    const first = lines.findIndex((l) => l.startsWith('  workers'));
    assert.match(lines[first]!, /^ {2}workers {5}w-0 {2}16 slots {2}0 tasks {2}34 attempts/);
    assert.match(lines[first + 1]!, /^ {14}w-1 {3}4 slots {3}1 task {2}34 attempts/);
    assert.equal(lines[first + MAX_REPORT_WORKERS], '              … 2 more in _job.json');
  });
});
