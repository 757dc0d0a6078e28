/**
 * The reduce task reports progress while a reducer is still inside one key's
 * values, so a reducer busy with a huge key is not taken for a hung one.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Key, Values } from '../api/types.ts';
import { normalizeInputFormat } from '../io/record-reader.ts';
import { normalizeOutputFormat } from '../io/output-writer.ts';
import { encodeKey } from '../shuffle/key-codec.ts';
import { RunWriter } from '../shuffle/run-writer.ts';
import { tempDir } from '../shuffle/test-support.ts';
import { encodeValue } from '../shuffle/value-codec.ts';
import type { JobBody } from './job-body.ts';
import type { TaskProgress } from './messages.ts';
import { runReduceTask } from './reduce-task.ts';

test('progress comes from within a key of 200 000 values, not only between keys', async (t) => {
  const dir = tempDir(t, 'tsmr-reduce-');
  const path = join(dir, 'm-00000_0.data');
  const writer = new RunWriter(path, 1);
  const one = encodeValue(1);
  for (const k of ['a', 'huge', 'z']) {
    const key = encodeKey(k);
    const n = k === 'huge' ? 200_000 : 1;
    for (let i = 0; i < n; i++) writer.append(0, key, 0, key.length, one, 0, one.length);
  }
  const [segment] = writer.close();

  const progress: TaskProgress[] = [];
  /** Progress reports seen while the reducer iterated the values of 'huge'. */
  let duringHuge = 0;
  const body: JobBody = {
    name: 'sum',
    inputFormat: normalizeInputFormat(undefined),
    outputFormat: normalizeOutputFormat(undefined),
    mapper: () => ({ record() {} }),
    reducer: (ctx) => ({
      group(key: Key, values: Values<unknown>) {
        const before = progress.length;
        let n = 0;
        for (const v of values) n += v as number;
        if (key === 'huge') duringHuge = progress.length - before;
        ctx.emit(key, n);
      },
    }),
  };
  const result = await runReduceTask(
    {
      kind: 'reduce',
      jobId: 'job',
      taskId: 'r-00000',
      attempt: 0,
      job: { kind: 'module', moduleUrl: 'unused', exportName: 'default' },
      params: {},
      numReducers: 1,
      partition: 0,
      sources: [
        { mapTaskId: 'm-00000', mapAttemptId: 'm-00000_0', segment, location: { kind: 'local', path } },
      ],
      mergeFanIn: 16,
      output: {
        kind: 'file',
        dir: join(dir, 'out'),
        fileName: 'part-r-00000',
        format: normalizeOutputFormat(undefined),
      },
    },
    body,
    join(dir, 'scratch'),
    (p) => progress.push(p),
  );

  assert.equal(readFileSync(join(dir, 'out', 'part-r-00000'), 'utf8'), 'a\t1\nhuge\t200000\nz\t1\n');
  assert.equal(result.counters['tsmr/REDUCE_INPUT_RECORDS'], 200_002);
  // Every 4096 records: 48 reports inside the key's 200 000 values.
  assert.ok(duringHuge >= 48, `${duringHuge} progress reports while the reducer was inside one key`);
  const records = progress.map((p) => p.records);
  assert.deepEqual(
    records,
    [...records].sort((x, y) => x - y),
    'records only grow',
  );
  assert.equal(progress.at(-1)?.records, 200_002);
});
