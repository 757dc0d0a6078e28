import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { ErrorCode, isTsmrError } from '../../errors.ts';
import { checkBearer, readClusterToken, tokensEqual } from './token.ts';

const TOKEN = 'c0ffee00c0ffee00c0ffee00c0ffee00';

function tokenFile(t: TestContext, content: string, mode = 0o600): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'tsmr-token-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'token');
  writeFileSync(file, content);
  chmodSync(file, mode);
  return file;
}

function usage(pattern: RegExp) {
  return (e: unknown) => isTsmrError(e) && e.code === ErrorCode.USAGE && pattern.test(e.message);
}

test('the token file wins over TSMR_TOKEN; one trailing newline is dropped', (t) => {
  const file = tokenFile(t, `${TOKEN}\n`);
  assert.deepEqual(readClusterToken({ tokenFile: file, env: { TSMR_TOKEN: 'x'.repeat(20) } }), {
    token: TOKEN,
    source: 'file',
  });
  assert.equal(readClusterToken({ tokenFile: tokenFile(t, `${TOKEN}\r\n`) })?.token, TOKEN);
  assert.throws(
    () => readClusterToken({ tokenFile: tokenFile(t, `${TOKEN}\n\n`) }),
    usage(/characters other than/),
  );
  assert.deepEqual(readClusterToken({ env: { TSMR_TOKEN: TOKEN } }), { token: TOKEN, source: 'env' });
  assert.equal(readClusterToken({ env: {} }), undefined);
});

test('empty, short, too long or oddly spelled tokens are refused, naming the source and not the token', (t) => {
  assert.throws(
    () => readClusterToken({ env: { TSMR_TOKEN: '' } }),
    usage(/TSMR_TOKEN environment variable holds an empty/),
  );
  assert.throws(() => readClusterToken({ tokenFile: tokenFile(t, '\n') }), usage(/empty cluster token/));
  assert.throws(
    () => readClusterToken({ env: { TSMR_TOKEN: 'abc123' } }),
    usage(/6 characters, fewer than 16/),
  );
  assert.throws(() => readClusterToken({ env: { TSMR_TOKEN: 'a'.repeat(4097) } }), usage(/longer than 4096/));
  assert.throws(
    () => readClusterToken({ env: { TSMR_TOKEN: `${TOKEN} with spaces` } }),
    (e: unknown) => usage(/characters other than/)(e) && !(e as Error).message.includes(TOKEN),
  );
  assert.equal(
    readClusterToken({ env: { TSMR_TOKEN: 'AZaz09-._~+/AZaz09==' } })?.token,
    'AZaz09-._~+/AZaz09==',
  );
});

test(
  'a token file others can read or write is refused; group-readable is fine',
  { skip: process.platform === 'win32' },
  (t) => {
    assert.throws(
      () => readClusterToken({ tokenFile: tokenFile(t, TOKEN, 0o644) }),
      usage(/mode 644.*chmod 600/),
    );
    assert.throws(() => readClusterToken({ tokenFile: tokenFile(t, TOKEN, 0o602) }), usage(/other users/));
    assert.equal(readClusterToken({ tokenFile: tokenFile(t, TOKEN, 0o640) })?.token, TOKEN);
    assert.throws(
      () => readClusterToken({ tokenFile: '/nonexistent/tsmr-token' }),
      usage(/cannot read the token file/),
    );
  },
);

test('tokensEqual: equal, different at one place, and different lengths (no throw)', () => {
  assert.ok(tokensEqual(TOKEN, TOKEN));
  assert.ok(!tokensEqual(TOKEN, TOKEN.replace(/.$/, '1')));
  assert.ok(!tokensEqual(TOKEN, TOKEN.slice(1)));
  assert.ok(!tokensEqual(TOKEN, TOKEN + 'a'));
  assert.ok(!tokensEqual(TOKEN, ''));
  assert.ok(!tokensEqual('é', 'e\u0301'), 'compares bytes, no normalisation');
});

test('checkBearer', () => {
  assert.equal(checkBearer(`Bearer ${TOKEN}`, TOKEN), 'ok');
  assert.equal(checkBearer(`BEARER ${TOKEN}`, TOKEN), 'ok');
  assert.equal(checkBearer(undefined, TOKEN), 'missing');
  assert.equal(checkBearer(null, TOKEN), 'missing');
  assert.equal(checkBearer('', TOKEN), 'missing');
  assert.equal(checkBearer(TOKEN, TOKEN), 'malformed');
  assert.equal(checkBearer(`Basic ${TOKEN}`, TOKEN), 'malformed');
  assert.equal(checkBearer(`Bearer ${TOKEN} extra`, TOKEN), 'malformed');
  assert.equal(checkBearer(`Bearer ${TOKEN}x`, TOKEN), 'wrong');
});
