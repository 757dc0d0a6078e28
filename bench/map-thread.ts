/**
 * How fast one thread runs map tasks (not part of `npm run bench`; run by
 * hand while working on the map side):
 *
 *   npx node --conditions=tsmr-source bench/map-thread.ts <job module> <file> [tasks] [R]
 *
 * Runs the job's map tasks over the first `tasks` (default 4) 64 MiB splits of
 * `file` in this thread, one after the other, as a worker thread runs them
 * (one `FoldTableCache`), with `R` (default 2) partitions, and prints each
 * task's CPU time and wall time (ms). CPU time, which a busy machine
 * disturbs less than wall time, is this process's (`process.cpuUsage`).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { normalizeInputFormat } from '../src/io/record-reader.ts';
import { FoldTableCache } from '../src/shuffle/fold-table.ts';
import { resolveJob } from '../src/task/load-job.ts';
import { runMapTask } from '../src/task/map-task.ts';

const [jobPath, file, tasksArg, rArg] = process.argv.slice(2);
if (jobPath === undefined || file === undefined) {
  console.error('usage: node bench/map-thread.ts <job module> <file> [tasks] [R]');
  process.exit(2);
}
const SPLIT = 64 * 2 ** 20;
const path = resolve(file);
const { size, mtimeMs } = statSync(path);
const tasks = Math.min(Number(tasksArg ?? 4), Math.ceil(size / SPLIT));
const { ref, body } = await resolveJob(resolve(jobPath), false);
const cache = new FoldTableCache();
const dir = mkdtempSync(join(tmpdir(), 'tsmr-map-thread-'));
try {
  for (let i = 0; i < tasks; i++) {
    const start = i * SPLIT;
    const end = Math.min(size, start + SPLIT);
    const cpu = process.cpuUsage();
    const wall = performance.now();
    const result = await runMapTask(
      {
        kind: 'map',
        jobId: 'bench',
        taskId: `m-${String(i).padStart(5, '0')}`,
        attempt: 0,
        job: ref!,
        params: {},
        numReducers: Number(rArg ?? 2),
        split: {
          index: i,
          length: end - start,
          parts: [{ path, start, end, compressed: false, size, mtimeMs }],
        },
        inputFormat: normalizeInputFormat(body.inputFormat),
        sortBufferBytes: 64 * 2 ** 20,
        mergeFanIn: 64,
      },
      body,
      join(dir, String(i)),
      () => {},
      cache,
    );
    const used = process.cpuUsage(cpu);
    console.log(
      `task ${i}: cpu ${((used.user + used.system) / 1000).toFixed(0)} ms, wall ${(performance.now() - wall).toFixed(0)} ms, ` +
        `${result.mapOutput?.records} records out`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
