import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode, isTsmrError } from '../../errors.ts';
import { NAME } from './wire-check.ts';
import { addressTowards, defaultWorkerId } from './worker-address.ts';

test('the default worker id is <host name>-<port>, made to fit the worker-id pattern', () => {
  assert.equal(defaultWorkerId(40123, 'node-7.example.org'), 'node-7.example.org-40123');
  assert.equal(defaultWorkerId(1, 'büro pc'), 'b-ro-pc-1');
  assert.equal(defaultWorkerId(2, '_x'), 'w_x-2');
  const long = defaultWorkerId(65535, 'h'.repeat(300));
  assert.equal(long.length, 128);
  assert.ok(long.endsWith('-65535'));
  for (const id of [long, defaultWorkerId(3, '')]) assert.match(id, NAME);
});

test('the address towards a coordinator on this machine is loopback', async () => {
  assert.equal(await addressTowards('http://127.0.0.1:7070'), '127.0.0.1');
  await assert.rejects(
    addressTowards('http://no-such-host.invalid:7070'),
    (e: unknown) => isTsmrError(e) && e.code === ErrorCode.IO && /give --host/.test(e.message),
  );
});
