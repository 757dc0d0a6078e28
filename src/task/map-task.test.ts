/**
 * The map task passes the job's merge fan-in to its final merge of spills;
 * its map context keeps V8's fast properties from task to task.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs, { writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import type { MapContext } from '../api/types.ts';
import { normalizeInputFormat } from '../io/record-reader.ts';
import { normalizeOutputFormat } from '../io/output-writer.ts';
import { tempDir } from '../shuffle/test-support.ts';
import type { JobBody } from './job-body.ts';
import { runMapTask } from './map-task.ts';

/** Runs one map attempt over 20 000 distinct words with a 16 KiB sort buffer (many spills). */
async function mapWithFanIn(dir: string, mergeFanIn: number): Promise<number> {
  const input = join(dir, `in-${mergeFanIn}.txt`);
  writeFileSync(input, Array.from({ length: 20_000 }, (_, i) => `word${i}\n`).join(''));
  const body: JobBody = {
    name: 'identity',
    inputFormat: normalizeInputFormat(undefined),
    outputFormat: normalizeOutputFormat(undefined),
    mapper: (ctx: MapContext) => ({ record: (_k, line) => ctx.emit(line as string, 1) }),
    reducer: () => ({ group() {} }),
  };
  const { size, mtimeMs } = fs.statSync(input);
  // Intermediate merge passes write `merge-*.run` files: count them.
  const openSync = fs.openSync;
  let mergeRuns = 0;
  fs.openSync = ((...args: Parameters<typeof openSync>) => {
    if (/merge-.*\.run$/.test(String(args[0]))) mergeRuns++;
    return openSync(...args);
  }) as typeof fs.openSync;
  syncBuiltinESMExports();
  try {
    await runMapTask(
      {
        kind: 'map',
        jobId: 'job',
        taskId: 'm-00000',
        attempt: 0,
        job: { kind: 'module', moduleUrl: 'unused', exportName: 'default' },
        params: {},
        numReducers: 1,
        split: {
          index: 0,
          parts: [{ path: input, start: 0, end: size, compressed: false, size, mtimeMs }],
          length: size,
        },
        inputFormat: body.inputFormat,
        sortBufferBytes: 16 * 1024,
        mergeFanIn,
      },
      body,
      join(dir, `attempt-${mergeFanIn}`),
      () => {},
    );
  } finally {
    fs.openSync = openSync;
    syncBuiltinESMExports();
  }
  return mergeRuns;
}

test('map tasks merge their spills with the job’s merge fan-in', async (t) => {
  const dir = tempDir(t, 'tsmr-map-task-');
  assert.equal(await mapWithFanIn(dir, 1000), 0, 'one pass: no intermediate runs');
  assert.ok((await mapWithFanIn(dir, 2)) > 10, 'fan-in 2: many intermediate runs');
});

test('every map task of a thread gets a map context with fast properties and its inputFile', (t) => {
  // A context in dictionary mode makes each ctx.emit a dictionary lookup (it
  // was so for every task after a thread's first while inputFile was a
  // getter made per task). V8's %HasFastProperties tells, in a child process.
  const dir = tempDir(t, 'tsmr-map-ctx-');
  const input = join(dir, 'in.txt');
  writeFileSync(input, 'a b\nc\n');
  const script = join(dir, 'three-tasks.mjs');
  writeFileSync(
    script,
    `import { statSync } from 'node:fs';
import { normalizeInputFormat } from ${JSON.stringify(pathToFileURL(join(import.meta.dirname, '../io/record-reader.ts')).href)};
import { normalizeOutputFormat } from ${JSON.stringify(pathToFileURL(join(import.meta.dirname, '../io/output-writer.ts')).href)};
import { runMapTask } from ${JSON.stringify(pathToFileURL(join(import.meta.dirname, 'map-task.ts')).href)};
const hasFastProperties = new Function('o', 'return %HasFastProperties(o)');
const input = ${JSON.stringify(input)};
const { size, mtimeMs } = statSync(input);
const seen = [];
const body = {
  name: 'ctx',
  inputFormat: normalizeInputFormat(undefined),
  outputFormat: normalizeOutputFormat(undefined),
  mapper: (ctx) => ({ record: (_k, line) => { seen.push([hasFastProperties(ctx), ctx.inputFile]); ctx.emit(line, 1); } }),
  reducer: () => ({ group() {} }),
};
for (let i = 0; i < 3; i++) {
  seen.length = 0;
  await runMapTask({ kind: 'map', jobId: 'job', taskId: 'm-0000' + i, attempt: 0,
    job: { kind: 'module', moduleUrl: 'unused', exportName: 'default' }, params: {}, numReducers: 1,
    split: { index: i, parts: [{ path: input, start: 0, end: size, compressed: false, size, mtimeMs }], length: size },
    inputFormat: body.inputFormat, sortBufferBytes: 1 << 20 }, body, ${JSON.stringify(dir)} + '/attempt-' + i, () => {});
  console.log(JSON.stringify(seen));
}
`,
  );
  const out = execFileSync(process.execPath, ['--allow-natives-syntax', script], { encoding: 'utf8' });
  const tasks = out
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Array<[boolean, string]>);
  assert.equal(tasks.length, 3);
  for (const seen of tasks) {
    assert.deepEqual(seen, [
      [true, input],
      [true, input],
    ]);
  }
});
