import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Code, ConnectError } from '@connectrpc/connect';
import { pollUntil } from '../../../test/support/poll.ts';
import { startCoordinator, type Coordinator } from './coordinator.ts';
import { ClientService } from './gen/tsmr/cluster/v1/client_service_pb.js';
import { WorkerService } from './gen/tsmr/cluster/v1/worker_service_pb.js';
import { createRpcClient, createRpcTransport, type RpcTransport } from './rpc-client.ts';
import { memoryLogger, TEST_TOKEN } from './test-support.ts';
import { tsmrVersion } from './tsmr-version.ts';
import { statusFromWire } from './wire-status.ts';

const version = tsmrVersion();

describe('coordinator: registration, fencing, liveness', () => {
  let coordinator: Coordinator;
  let dir: string;
  const transports: RpcTransport[] = [];
  const { log, lines } = memoryLogger();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tsmr-coordinator-test-'));
    coordinator = await startCoordinator({
      port: 0,
      token: TEST_TOKEN,
      heartbeatIntervalMs: 100,
      missedHeartbeats: 10,
      workDir: dir,
      log,
    });
  });
  after(async () => {
    for (const t of transports) t.close();
    await coordinator.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Clients sending `token` (none: no `authorization` header). */
  function clients(...given: [token?: string | undefined]) {
    const token = given.length === 0 ? TEST_TOKEN : given[0];
    const transport = createRpcTransport({ baseUrl: coordinator.url, token });
    transports.push(transport);
    return {
      worker: createRpcClient(WorkerService, { transport }),
      client: createRpcClient(ClientService, { transport }),
    };
  }

  const registration = (workerId: string, tsmrVersion = version) => ({
    workerId,
    tsmrVersion,
    shuffleUrl: 'http://127.0.0.1:9',
    slots: 2,
    hostName: 'test',
    pid: process.pid,
  });

  async function workerState(id: string): Promise<string | undefined> {
    const status = statusFromWire(await clients().client.getStatus({}));
    return status.workers.find((w) => w.workerId === id)?.state;
  }

  test('a new incarnation fences the old one: its heartbeats and polls are answered "re-register"', async () => {
    const { worker } = clients();
    const first = await worker.register(registration('fence'));
    const second = await worker.register(registration('fence'));
    assert.ok(second.incarnation > first.incarnation);
    const old = await worker.heartbeat({ workerId: 'fence', incarnation: first.incarnation });
    assert.equal(old.reregister, true);
    const poll = await worker.acquireTasks({
      workerId: 'fence',
      incarnation: first.incarnation,
      freeSlots: 1,
      waitMs: 0,
      pollSeq: 1n,
    });
    assert.equal(poll.reregister, true);
    const current = await worker.heartbeat({ workerId: 'fence', incarnation: second.incarnation });
    assert.equal(current.reregister, false);
    const none = await worker.acquireTasks({
      workerId: 'fence',
      incarnation: second.incarnation,
      freeSlots: 1,
      waitMs: 20,
      pollSeq: 1n,
    });
    assert.deepEqual([none.reregister, none.leases.length], [false, 0]);
  });

  test('another major.minor version is refused at registration with a message saying so', async () => {
    const [major, minor] = version.split('.').map(Number) as [number, number];
    const other = `${major}.${minor + 1}.0`;
    await assert.rejects(
      clients().worker.register(registration('old', other)),
      (e: unknown) =>
        e instanceof ConnectError &&
        e.code === Code.FailedPrecondition &&
        e.rawMessage.includes(`worker runs tsmr ${other}`),
    );
    assert.equal(await workerState('old'), undefined);
  });

  test('a worker whose session ends is dead at once; one that stops sending heartbeats after the timeout', async () => {
    const { worker } = clients();
    const reg = await worker.register(registration('session'));
    const abort = new AbortController();
    const stream = worker.session(
      { workerId: 'session', incarnation: reg.incarnation },
      { signal: abort.signal },
    );
    const iterator = stream[Symbol.asyncIterator]();
    const first = await iterator.next();
    assert.equal(first.value?.command.case, 'attached');
    // Keep it alive with heartbeats while the session is open…
    const beat = setInterval(
      () => void worker.heartbeat({ workerId: 'session', incarnation: reg.incarnation }).catch(() => {}),
      20,
    );
    try {
      assert.equal(await workerState('session'), 'alive');
      abort.abort();
      await pollUntil(
        'the worker dead after its session ended',
        async () => (await workerState('session')) === 'dead',
      );
    } finally {
      clearInterval(beat);
    }
    const silent = await worker.register(registration('silent'));
    assert.ok(silent.incarnation > reg.incarnation);
    await pollUntil('the silent worker dead', async () => (await workerState('silent')) === 'dead');
    assert.ok(lines.some((l) => l.msg === 'worker lost' && String(l.reason).includes('no heartbeat')));
  });

  test('a wrong or missing token is refused on both services, and the server stays up', async () => {
    for (const token of ['wrong-token-0123456789abcdef', undefined]) {
      const { worker, client } = clients(token);
      await assert.rejects(worker.register(registration('intruder')), { code: Code.Unauthenticated });
      await assert.rejects(client.getStatus({}), { code: Code.Unauthenticated });
    }
    assert.equal(await workerState('intruder'), undefined);
    assert.ok(statusFromWire(await clients().client.getStatus({})).workers.length > 0);
  });

  test('a submission without its bundle, or without an output directory, is refused', async () => {
    const { client } = clients();
    await assert.rejects(
      client.submitJob({
        submissionId: 's1',
        job: {
          job: { kind: { case: 'module', value: { bundleSha256: 'a'.repeat(64), exportName: 'default' } } },
          inputs: ['/in'],
          outputDir: '/out',
          settings: {},
        },
      }),
      (e: unknown) =>
        e instanceof ConnectError && e.code === Code.FailedPrecondition && /not uploaded/.test(e.rawMessage),
    );
    await assert.rejects(
      client.submitJob({
        submissionId: 's2',
        job: {
          job: { kind: { case: 'streaming', value: { mapper: 'cat' } } },
          inputs: ['/in'],
          settings: {},
        },
      }),
      (e: unknown) => e instanceof ConnectError && /output directory/.test(e.rawMessage),
    );
  });

  test('/metrics lists workers by state', async () => {
    const res = await fetch(`${coordinator.url}/metrics`);
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(text, /^tsmr_coordinator_workers\{state="alive"\} \d+$/m);
    assert.match(text, /^tsmr_coordinator_workers\{state="dead"\} [1-9]\d*$/m);
  });
});
