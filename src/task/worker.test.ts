/**
 * The thread entry stops an attempt told to `kill` on its port, whether the
 * message comes while the job module loads or between records (the driver
 * also terminates the thread; this is what stops an attempt whose thread's
 * termination was lost). Run here in the test's own thread, so nothing is
 * terminated.
 */
import assert from 'node:assert/strict';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { MessageChannel } from 'node:worker_threads';
import { normalizeInputFormat } from '../io/record-reader.ts';
import { tempDir } from '../shuffle/test-support.ts';
import type { MapTaskMessage, TaskProgress } from './messages.ts';
import runAttempt from './worker.ts';

const pacedMap = pathToFileURL(join(import.meta.dirname, '../../test/fixtures/jobs/paced-map.ts')).href;

/** A map attempt of the paced-map fixture over `lines` lines, `ms` ms each. */
function pacedMessage(dir: string, lines: number, ms: number): MapTaskMessage {
  const path = join(dir, 'in.txt');
  writeFileSync(path, Array.from({ length: lines }, (_, i) => `line ${i}\n`).join(''));
  const { size, mtimeMs } = statSync(path);
  return {
    kind: 'map',
    jobId: 'job',
    taskId: 'm-00000',
    attempt: 0,
    job: { kind: 'module', moduleUrl: pacedMap, exportName: 'default' },
    params: { ms: String(ms) },
    numReducers: 1,
    split: {
      index: 0,
      parts: [{ path, start: 0, end: size, compressed: false, size, mtimeMs }],
      length: size,
    },
    inputFormat: normalizeInputFormat(undefined),
    sortBufferBytes: 1 << 20,
    mergeFanIn: 10,
  };
}

/** Starts the attempt; `progress` settles with its first progress report that counts a record. */
function start(dir: string, msg: MapTaskMessage) {
  const { port1, port2 } = new MessageChannel();
  const progress = new Promise<TaskProgress>((resolve) =>
    port1.on('message', (p: TaskProgress) => {
      if (p.records > 0) resolve(p);
    }),
  );
  const result = runAttempt({ msg, scratchDir: join(dir, 'attempt'), port: port2 });
  return {
    result,
    progress,
    kill: (reason: string) => port1.postMessage({ kill: reason }),
    close: () => port1.close(),
  };
}

const killedError = (e: unknown): boolean => {
  const serialized = (e as { serializedError?: { code?: string; message: string } }).serializedError;
  return serialized?.code === 'TSMR_CANCELLED' && /was killed: stop now/.test(serialized.message);
};

test('a kill that comes while the job module loads stops the attempt before its first record', async (t) => {
  const dir = tempDir(t, 'tsmr-thread-kill-');
  const attempt = start(dir, pacedMessage(dir, 1000, 20));
  t.after(attempt.close);
  attempt.kill('stop now');
  await assert.rejects(attempt.result, killedError);
});

test('a kill between records stops the attempt at its next record', async (t) => {
  const dir = tempDir(t, 'tsmr-thread-kill-');
  // 10 000 records of 10 ms: 100 s if the kill were not heeded.
  const attempt = start(dir, pacedMessage(dir, 10_000, 10));
  t.after(attempt.close);
  const seen = await attempt.progress;
  assert.ok(seen.records < 10_000);
  attempt.kill('stop now');
  await assert.rejects(attempt.result, killedError);
});
