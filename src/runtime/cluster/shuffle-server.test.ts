import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import { tempDir } from '../../shuffle/test-support.ts';
import { REPLY_HEADER, deriveJobKey, replySignature, signShuffleRequest } from './shuffle-auth.ts';
import { CRC32_HEADER, RECORDS_HEADER } from './shuffle-protocol.ts';
import type { ServedMapOutput } from './shuffle-server.ts';
import {
  JOB,
  KEY,
  OTHER_JOB,
  TOKEN,
  openFilesUnder,
  request,
  startServer,
  until,
} from './shuffle-test-support.ts';
import type { TestServer } from './shuffle-test-support.ts';

const ATTEMPT = 'm-00003_1';
const pathOf = (partition: number, attempt = ATTEMPT, job = JOB) => `/shuffle/${job}/${attempt}/${partition}`;
const signed = (path: string, method = 'GET', key = KEY, now = Date.now()) =>
  signShuffleRequest(key, method, path, now);

/** A data file of two segments of random bytes (2nd: `bigBytes` long) plus an empty third one, registered as ATTEMPT. */
function register(s: TestServer, dir: string, bigBytes = 3000): { location: ServedMapOutput; data: Buffer } {
  const data = randomBytes(1000 + bigBytes);
  const dataPath = join(dir, `${ATTEMPT}.data`);
  writeFileSync(dataPath, data);
  const seg = (offset: number, length: number, records: number) => ({
    offset,
    length,
    records,
    crc32: crc32(data.subarray(offset, offset + length)),
  });
  const location = {
    dataPath,
    partitions: [seg(0, 1000, 10), seg(1000, bigBytes, 20), seg(data.length, 0, 0)],
  };
  s.registry.set(JOB, new Map([[ATTEMPT, location]]));
  return { location, data };
}

describe('shuffle server', () => {
  it('serves a segment with its length, records, CRC-32 and reply signature; HEAD gives the headers only', async (t) => {
    const s = await startServer(t);
    const { location, data } = register(s, tempDir(t));
    const headers = signed(pathOf(1));
    const res = await request(s.url, pathOf(1), { headers });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, data.subarray(1000));
    const segment = location.partitions[1];
    assert.equal(res.headers['content-length'], String(segment.length));
    assert.equal(res.headers[RECORDS_HEADER], '20');
    assert.equal(res.headers[CRC32_HEADER], String(segment.crc32));
    const sig = headers.authorization.split(' ')[1];
    assert.equal(res.headers[REPLY_HEADER], replySignature(KEY, sig, segment));

    const head = await request(s.url, pathOf(0), { method: 'HEAD', headers: signed(pathOf(0), 'HEAD') });
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], '1000');
    assert.equal(head.body.length, 0);
    const empty = await request(s.url, pathOf(2), { headers: signed(pathOf(2)) });
    assert.equal(empty.status, 200);
    assert.equal(empty.body.length, 0);
    assert.deepEqual(s.server.stats(), {
      bytesServed: 3000,
      active: 0,
      responses: { ok: 3, badRequest: 0, unauthorized: 0, notFound: 0, gone: 0, failed: 0, aborted: 0 },
    });
  });

  it('answers 401 to missing, wrong, forged, other-path, expired and unknown-job credentials, logs them, and stays up', async (t) => {
    const s = await startServer(t);
    const { data } = register(s, tempDir(t));
    const good = signed(pathOf(0));
    const sig = good.authorization.split(' ')[1];
    const cases: Array<[string, Record<string, string>, string]> = [
      [pathOf(0), {}, 'missing credentials'],
      [pathOf(0), { ...signed(pathOf(0), 'GET', deriveJobKey(TOKEN, OTHER_JOB)) }, 'bad signature'],
      [pathOf(0), { ...signed(pathOf(0), 'GET', deriveJobKey('another token', JOB)) }, 'bad signature'],
      [pathOf(0), { ...good, authorization: `TSMR-HMAC ${sig.slice(0, -2)}AA` }, 'bad signature'],
      [pathOf(0), { ...good, authorization: 'TSMR-HMAC x' }, 'bad signature'],
      [pathOf(0), { ...good, authorization: `Bearer ${TOKEN}` }, 'malformed credentials'],
      [pathOf(1), { ...good }, 'bad signature'],
      [pathOf(0), { ...signed(pathOf(0), 'GET', KEY, Date.now() - 600_000) }, 'expired'],
      [pathOf(0, ATTEMPT, OTHER_JOB), { ...signed(pathOf(0, ATTEMPT, OTHER_JOB)) }, 'unknown job'],
    ];
    for (const [path, headers, reason] of cases) {
      const res = await request(s.url, path, { headers });
      assert.equal(res.status, 401, reason);
      assert.equal(res.headers['www-authenticate'], 'TSMR-HMAC');
      assert.equal(res.body.toString(), 'Unauthorized\n');
      assert.equal(res.headers[CRC32_HEADER], undefined);
      assert.equal(s.logs.at(-1)?.reason, reason);
      assert.equal(s.logs.at(-1)?.msg, 'shuffle request refused: not authenticated');
    }
    assert.doesNotMatch(s.logText(), new RegExp(`${sig}|${TOKEN}|${KEY.toString('base64url')}`));
    const ok = await request(s.url, pathOf(0), { headers: good });
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.body, data.subarray(0, 1000));
    assert.equal(s.server.stats().responses.unauthorized, cases.length);
  });

  it('answers 400 to anything but a canonical path and 404 to what the registry lacks, even when signed', async (t) => {
    const s = await startServer(t);
    const dir = tempDir(t);
    register(s, dir);
    const outside = join(dir, 'secret.txt');
    writeFileSync(outside, 'SECRET');
    const bad = [
      '/shuffle/../../etc/passwd',
      `/shuffle/${JOB}/${ATTEMPT}/../../../../etc/passwd`,
      `/shuffle/${JOB}/%2e%2e%2f%2e%2e%2fetc%2fpasswd/0`,
      `/shuffle/%2e%2e/${ATTEMPT}/0`,
      outside,
      `//${outside}`,
      `/shuffle/${JOB}/${ATTEMPT}/0?path=${outside}`,
      `/shuffle/${JOB}/${ATTEMPT}/99999999999999999999`,
      `/shuffle/${JOB}/${ATTEMPT}/-1`,
      `/shuffle/${JOB}/x-00003_1/0`,
    ];
    for (const target of bad) {
      const res = await request(s.url, target, { headers: signed(target) });
      assert.equal(res.status, 400, target);
      assert.doesNotMatch(res.body.toString(), /SECRET|root:/);
    }
    // A reduce attempt's path is well formed (a records output), but none is registered here.
    for (const target of [pathOf(3), pathOf(999_999_999), pathOf(0, 'm-00004_0'), pathOf(0, 'r-00003_1')]) {
      const res = await request(s.url, target, { headers: signed(target) });
      assert.equal(res.status, 404, target);
    }
    const post = await request(s.url, pathOf(0), { method: 'POST', headers: signed(pathOf(0), 'POST') });
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, 'GET, HEAD');
    assert.equal(s.server.stats().responses.badRequest, bad.length + 1);
    assert.equal(s.server.stats().responses.notFound, 4);
  });

  it('answers 410 with a log line when the data file vanished or is shorter than its index', async (t) => {
    const s = await startServer(t);
    const { location } = register(s, tempDir(t));
    truncateSync(location.dataPath, 1500);
    const short = await request(s.url, pathOf(1), { headers: signed(pathOf(1)) });
    assert.equal(short.status, 410);
    assert.equal(s.logs.at(-1)?.msg, 'shuffle: map output file is shorter than its index');
    const stillThere = await request(s.url, pathOf(0), { headers: signed(pathOf(0)) });
    assert.equal(stillThere.status, 200);
    unlinkSync(location.dataPath);
    const gone = await request(s.url, pathOf(0), { headers: signed(pathOf(0)) });
    assert.equal(gone.status, 410);
    assert.equal(gone.body.toString(), 'Gone\n');
    assert.equal(s.logs.at(-1)?.msg, 'shuffle: map output file is gone');
    assert.equal(s.server.stats().responses.gone, 2);
  });

  it('answers 500 when the registry fails, and goes on serving', async (t) => {
    let fail = true;
    const dir = tempDir(t);
    const s = await startServer(t, {
      lookup: async (_job, attempt) => {
        if (fail) throw new Error('registry down');
        return s.registry.get(JOB)?.get(attempt);
      },
    });
    register(s, dir);
    assert.equal((await request(s.url, pathOf(0), { headers: signed(pathOf(0)) })).status, 500);
    fail = false;
    assert.equal((await request(s.url, pathOf(0), { headers: signed(pathOf(0)) })).status, 200);
    assert.equal(s.server.stats().responses.failed, 1);
  });

  it('cuts the connection when the data file cannot be read mid-stream', async (t) => {
    const s = await startServer(t);
    const dir = tempDir(t);
    // A directory opens and has a size, but reading it fails (EISDIR) after the headers went out.
    s.registry.set(
      JOB,
      new Map([
        [
          ATTEMPT,
          { dataPath: dir, partitions: [{ offset: 0, length: statSync(dir).size, records: 1, crc32: 0 }] },
        ],
      ]),
    );
    const outcome = await new Promise<string>((resolve) => {
      const { port } = new URL(s.url);
      const req = http.get({
        host: '127.0.0.1',
        port,
        path: pathOf(0),
        headers: signed(pathOf(0)),
        agent: false,
      });
      req
        .on('error', () => resolve('request error'))
        .on('response', (res) => {
          if (res.statusCode !== 200) return resolve(`HTTP ${res.statusCode}`);
          res
            .resume()
            .on('error', () => resolve('cut'))
            .on('end', () => resolve('complete'));
        });
    });
    assert.match(outcome, /^(cut|request error)$/); // a short body, or no response at all
    assert.equal(s.server.stats().responses.failed, 1);
    assert.equal(s.logs.at(-1)?.msg, 'shuffle segment read failed mid-stream');
    assert.equal(
      (await request(s.url, pathOf(0, 'm-00009_0'), { headers: signed(pathOf(0, 'm-00009_0')) })).status,
      404,
    );
  });

  it('closes the file when a client disconnects mid-stream', async (t) => {
    const s = await startServer(t);
    const dir = tempDir(t);
    register(s, dir, 32 << 20); // larger than any socket buffer
    await new Promise<void>((resolve, reject) => {
      const { port } = new URL(s.url);
      const req = http.get({
        host: '127.0.0.1',
        port,
        path: pathOf(1),
        headers: signed(pathOf(1)),
        agent: false,
      });
      req.on('error', reject).on('response', (res) => {
        assert.equal(res.statusCode, 200);
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
    });
    await until(() => s.server.stats().responses.aborted === 1, 'the server to see the disconnect');
    await until(() => openFilesUnder(dir).length === 0, 'the data file to be closed');
    assert.equal(s.server.stats().bytesServed, 0);
    assert.equal(s.logs.at(-1)?.msg, 'shuffle client disconnected mid-stream');
  });

  it('close() is idempotent, cuts keep-alive connections and transfers in progress, and frees the port', async (t) => {
    const s = await startServer(t);
    const dir = tempDir(t);
    register(s, dir, 32 << 20);
    const agent = new http.Agent({ keepAlive: true });
    t.after(() => agent.destroy());
    const { port } = new URL(s.url);
    // One idle keep-alive connection, one transfer stalled by a client that does not read.
    await new Promise<void>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, path: pathOf(0), headers: signed(pathOf(0)), agent }, (res) => {
          res.resume().on('end', resolve);
        })
        .on('error', reject);
    });
    const stalled = await new Promise<http.IncomingMessage>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, path: pathOf(1), headers: signed(pathOf(1)), agent: false }, resolve)
        .on('error', reject);
    });
    stalled.pause().on('error', () => undefined);
    const cut = new Promise((resolve) => stalled.once('close', resolve));
    const first = s.server.close();
    assert.equal(s.server.close(), first);
    await first;
    stalled.resume(); // the client sees the cut once it has read what was sent before it
    await cut;
    assert.equal(stalled.complete, false);
    await until(() => openFilesUnder(dir).length === 0, 'the data file to be closed');
    await assert.rejects(
      request(s.url, pathOf(0), { headers: signed(pathOf(0)) }),
      (e: NodeJS.ErrnoException) => e.code === 'ECONNREFUSED',
    );
    await assert.rejects(s.server.listen(), /listen\(\) after/);
  });
});
