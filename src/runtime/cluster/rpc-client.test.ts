import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode, isTsmrError } from '../../errors.ts';
import { WorkerService } from './gen/tsmr/cluster/v1/worker_service_pb.js';
import { createRpcClient, createRpcTransport } from './rpc-client.ts';
import { createInProcessTransport } from './rpc-router.ts';
import { TEST_TOKEN, memoryLogger, stubRoutes } from './test-support.ts';

const usage = (pattern: RegExp) => (e: unknown) =>
  isTsmrError(e) && e.code === ErrorCode.USAGE && pattern.test(e.message);

test('createRpcTransport refuses what is not an http(s) coordinator URL, and a CA without https', () => {
  assert.throws(
    () => createRpcTransport({ baseUrl: 'coordinator:7000', token: TEST_TOKEN }),
    usage(/http:\/\/host:port/),
  );
  assert.throws(
    () => createRpcTransport({ baseUrl: 'not a url', token: TEST_TOKEN }),
    usage(/not a coordinator URL/),
  );
  assert.throws(
    () => createRpcTransport({ baseUrl: 'http://127.0.0.1:1', token: TEST_TOKEN, ca: 'PEM' }),
    usage(/not https/),
  );
  const t = createRpcTransport({ baseUrl: 'https://127.0.0.1:1', token: TEST_TOKEN, ca: 'PEM' });
  t.close();
});

test('createRpcClient over a given transport (in process) sends the token', async () => {
  const { log } = memoryLogger();
  const transport = createInProcessTransport(stubRoutes({ registered: [], sessions: [] }), {
    token: TEST_TOKEN,
    log,
  });
  const worker = createRpcClient(WorkerService, { transport });
  assert.equal((await worker.register({ workerId: 'w1', slots: 1 })).incarnation, 1n);
});
