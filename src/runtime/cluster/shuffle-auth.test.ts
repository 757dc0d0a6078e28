import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isTsmrError } from '../../errors.ts';
import {
  EXPIRES_HEADER,
  SIGNATURE_TTL_S,
  deriveJobKey,
  replySignature,
  signShuffleRequest,
  verifyShuffleRequest,
} from './shuffle-auth.ts';

const JOB = 'job-20261201-121943-a1b2c3';
const OTHER_JOB = 'job-20261201-121943-ffffff';
const PATH = `/shuffle/${JOB}/m-00003_1/7`;
const NOW = 1_800_000_000_000;
const key = deriveJobKey('cluster-token', JOB);

const verify = (headers: Record<string, string | undefined>, opts: { path?: string; now?: number } = {}) =>
  verifyShuffleRequest(key, { method: 'GET', path: opts.path ?? PATH, headers }, opts.now ?? NOW);

describe('shuffle auth', () => {
  it('derives a 32-byte key per job and token', () => {
    assert.equal(key.length, 32);
    assert.deepEqual(deriveJobKey('cluster-token', JOB), key);
    assert.notDeepEqual(deriveJobKey('cluster-token', OTHER_JOB), key);
    assert.notDeepEqual(deriveJobKey('other-token', JOB), key);
    assert.throws(
      () => deriveJobKey('', JOB),
      (e: unknown) => isTsmrError(e) && e.code === 'TSMR_USAGE',
    );
  });

  it('accepts a signed request until it expires (with clock skew)', () => {
    const headers = { ...signShuffleRequest(key, 'GET', PATH, NOW) };
    assert.match(headers.authorization, /^TSMR-HMAC [A-Za-z0-9_-]{43}$/);
    assert.equal(headers[EXPIRES_HEADER], String(NOW / 1000 + SIGNATURE_TTL_S));
    const ok = verify(headers);
    assert.equal(ok.ok, true);
    assert.equal(verify(headers, { now: NOW + 119_000 }).ok, true);
    assert.deepEqual(verify(headers, { now: NOW + 121_000 }), { ok: false, reason: 'expired' });
    // A far-future expiry is refused even when correctly signed.
    const long = signShuffleRequest(key, 'GET', PATH, NOW, 3600);
    assert.deepEqual(verify({ ...long }), { ok: false, reason: 'expiry too far in the future' });
  });

  it('refuses missing, malformed, forged, other-path, other-method and other-job credentials', () => {
    const good = signShuffleRequest(key, 'GET', PATH, NOW);
    const sig = good.authorization.split(' ')[1];
    const forged = (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1);
    const cases: Array<[Record<string, string | undefined>, string, string?]> = [
      [{}, 'missing credentials'],
      [{ authorization: good.authorization }, 'missing credentials'],
      [{ ...good, authorization: `Bearer ${sig}` }, 'malformed credentials'],
      [{ ...good, [EXPIRES_HEADER]: '12.5' }, 'malformed credentials'],
      [{ ...good, authorization: `TSMR-HMAC ${forged}` }, 'bad signature'],
      [{ ...good, authorization: 'TSMR-HMAC short' }, 'bad signature'],
      [{ ...good, [EXPIRES_HEADER]: String(Number(good[EXPIRES_HEADER]) + 1) }, 'bad signature'],
      [{ ...good }, 'bad signature', `/shuffle/${JOB}/m-00003_1/8`],
      [
        { ...signShuffleRequest(deriveJobKey('cluster-token', OTHER_JOB), 'GET', PATH, NOW) },
        'bad signature',
      ],
    ];
    for (const [headers, reason, path] of cases)
      assert.deepEqual(verify(headers, { path }), { ok: false, reason });
    const head = verifyShuffleRequest(key, { method: 'HEAD', path: PATH, headers: { ...good } }, NOW);
    assert.deepEqual(head, { ok: false, reason: 'bad signature' });
  });

  it('refuses every request for an unknown job, even one signed with the stand-in key', () => {
    const zero = signShuffleRequest(Buffer.alloc(32), 'GET', PATH, NOW);
    const check = verifyShuffleRequest(undefined, { method: 'GET', path: PATH, headers: { ...zero } }, NOW);
    assert.deepEqual(check, { ok: false, reason: 'unknown job' });
  });

  it('reply signatures bind the request signature and the segment facts', () => {
    const facts = { length: 10, records: 2, crc32: 123 };
    const r = replySignature(key, 'sig', facts);
    assert.equal(replySignature(key, 'sig', { ...facts }), r);
    assert.notEqual(replySignature(key, 'sig2', facts), r);
    assert.notEqual(replySignature(key, 'sig', { ...facts, crc32: 124 }), r);
  });
});
