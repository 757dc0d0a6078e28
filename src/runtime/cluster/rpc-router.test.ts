import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { ErrorCode, TsmrError } from '../../errors.ts';
import { ClientService } from './gen/tsmr/cluster/v1/client_service_pb.js';
import { RegisterRequestSchema, WorkerService } from './gen/tsmr/cluster/v1/worker_service_pb.js';
import { createInProcessTransport } from './rpc-router.ts';
import { TEST_TOKEN, memoryLogger, stubRoutes } from './test-support.ts';
import type { StubState } from './test-support.ts';

const registration = create(RegisterRequestSchema, {
  workerId: 'w1',
  tsmrVersion: '0.1.0',
  shuffleUrl: 'http://127.0.0.1:1',
  slots: 2,
});

function setup(clientToken: string | undefined) {
  const state: StubState = { registered: [], sessions: [] };
  const { log, lines } = memoryLogger();
  const transport = createInProcessTransport(stubRoutes(state), { token: TEST_TOKEN, log, clientToken });
  return {
    state,
    lines,
    worker: createClient(WorkerService, transport),
    client: createClient(ClientService, transport),
  };
}

async function refusal(p: Promise<unknown>): Promise<ConnectError> {
  try {
    await p;
  } catch (error) {
    return ConnectError.from(error);
  }
  assert.fail('the call was accepted');
}

test('both stub services answer a caller with the right token, in process', async () => {
  const { state, worker, client } = setup(TEST_TOKEN);
  const reg = await worker.register(registration);
  assert.equal(reg.incarnation, 1n);
  assert.equal(state.registered[0].workerId, 'w1');
  const status = await client.getStatus({});
  assert.deepEqual(status.jobs, []);
  const stream = worker.session({ workerId: 'w1', incarnation: 1n });
  for await (const msg of stream) {
    assert.equal(msg.command.case, 'attached');
    break;
  }
});

test('the gate refuses a missing, wrong, same-length, shorter, longer or malformed token', async () => {
  const wrongSameLength = TEST_TOKEN.slice(0, -1) + (TEST_TOKEN.endsWith('f') ? 'e' : 'f');
  const cases: Array<{ name: string; clientToken?: string; header?: string; reason: string }> = [
    { name: 'missing', reason: 'missing' },
    { name: 'same length, one character off', clientToken: wrongSameLength, reason: 'wrong' },
    { name: 'shorter (a prefix)', clientToken: TEST_TOKEN.slice(0, -1), reason: 'wrong' },
    { name: 'longer (an extension)', clientToken: TEST_TOKEN + '0', reason: 'wrong' },
    { name: 'another scheme', header: `Basic ${TEST_TOKEN}`, reason: 'malformed' },
    { name: 'scheme only', header: 'Bearer', reason: 'malformed' },
  ];
  for (const c of cases) {
    const { state, lines, worker } = setup(c.clientToken);
    const options = c.header === undefined ? {} : { headers: { authorization: c.header } };
    const err = await refusal(worker.register(registration, options));
    assert.equal(err.code, Code.Unauthenticated, c.name);
    assert.equal(state.registered.length, 0, `${c.name}: the handler never ran`);
    const warn = lines.find((l) => l.msg === 'refused an RPC without the cluster token');
    assert.ok(warn, `${c.name}: a warn line`);
    assert.equal(warn.reason, c.reason, c.name);
    assert.equal(warn.rpc, 'tsmr.cluster.v1.WorkerService/Register');
    assert.ok(!JSON.stringify(lines).includes(TEST_TOKEN.slice(0, 12)), `${c.name}: no token in the log`);
    const stream = worker.session({ workerId: 'w1', incarnation: 1n }, options);
    const streamErr = await refusal(
      (async () => {
        for await (const _ of stream);
      })(),
    );
    assert.equal(streamErr.code, Code.Unauthenticated, `${c.name}: a stream is refused too`);
    assert.equal(state.sessions.length, 0);
  }
});

test('the bearer scheme is case-insensitive', async () => {
  const { worker } = setup(undefined);
  const reg = await worker.register(registration, { headers: { authorization: `bearer ${TEST_TOKEN}` } });
  assert.equal(reg.incarnation, 1n);
});

test('a message refused by wire.ts (TSMR_BAD_MESSAGE) is answered INVALID_ARGUMENT with its message', async () => {
  const { log } = memoryLogger();
  const transport = createInProcessTransport(
    (router) =>
      router.service(WorkerService, {
        register() {
          throw new TsmrError(ErrorCode.BAD_MESSAGE, 'RegisterRequest.slots must be 1–1024, got 0');
        },
      }),
    { token: TEST_TOKEN, log },
  );
  const err = await refusal(createClient(WorkerService, transport).register(registration));
  assert.equal(err.code, Code.InvalidArgument);
  assert.match(err.rawMessage, /slots must be 1–1024, got 0/);
});

test('without a server token every caller is let through (loopback-only servers)', async () => {
  const { log } = memoryLogger();
  const state: StubState = { registered: [], sessions: [] };
  const transport = createInProcessTransport(stubRoutes(state), { token: undefined, log });
  const reg = await createClient(WorkerService, transport).register(registration);
  assert.equal(reg.incarnation, 1n);
});
