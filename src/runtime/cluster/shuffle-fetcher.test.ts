import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import { isTsmrError } from '../../errors.ts';
import type { TsmrError } from '../../errors.ts';
import type { MapOutput } from '../../shuffle/map-output.ts';
import { segmentRefOf } from '../../shuffle/map-output.ts';
import { filesIn, tempDir } from '../../shuffle/test-support.ts';
import { REPLY_HEADER, deriveJobKey, replySignature } from './shuffle-auth.ts';
import { fetchSegments } from './shuffle-fetcher.ts';
import type { FetchSegmentsOptions, ShuffleSource } from './shuffle-fetcher.ts';
import { CRC32_HEADER, RECORDS_HEADER } from './shuffle-protocol.ts';
import {
  JOB,
  KEY,
  openFilesUnder,
  readMerged,
  sourcesOf,
  startFakeServer,
  startServer,
  until,
  writeMapOutput,
} from './shuffle-test-support.ts';

type T = Parameters<typeof tempDir>[0];

/** Real map outputs `m-0000i_0` (i < maps) with R partitions, served by a real shuffle server. */
async function serveOutputs(t: T, maps: number, R: number, records = 2000, valueBytes = 8) {
  const s = await startServer(t);
  const dir = tempDir(t);
  const outputs = new Map<string, MapOutput>();
  for (let i = 0; i < maps; i++) {
    const id = `m-${String(i).padStart(5, '0')}_0`;
    outputs.set(id, await writeMapOutput(dir, id, { numPartitions: R, records: records + i, valueBytes }));
  }
  s.registry.set(JOB, new Map(outputs));
  return { s, dir, outputs };
}

/** Fetch options for tests: no real backoff waits (the delays asked for are recorded). */
function testOptions(dir: string, extra: Partial<FetchSegmentsOptions> = {}) {
  const delays: number[] = [];
  const reported: Array<[ShuffleSource, TsmrError]> = [];
  const options: FetchSegmentsOptions = {
    jobKey: KEY,
    dir,
    sleep: async (ms) => void delays.push(ms),
    random: () => 0.5,
    onFetchFailure: (source, error) => void reported.push([source, error]),
    ...extra,
  };
  return { options, delays, reported };
}

const isFetchError =
  (code: string, check: (e: TsmrError) => void = () => undefined) =>
  (e: unknown) => {
    assert.ok(isTsmrError(e), String(e));
    assert.equal(e.code, code, e.message);
    check(e);
    return true;
  };

const failuresOf = (e: TsmrError) => e.details.failedMapOutputs as Array<Record<string, unknown>>;

/** A port on 127.0.0.1 where nothing listens (bound, then released). */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('fetchSegments', () => {
  for (const parallel of [1, 5]) {
    it(`fetches segments of many map outputs that merge to the original records (parallel ${parallel})`, async (t) => {
      // 6 maps × 5 partitions; ~1.7 MB per map, so segments are far larger than any client buffer (64 KiB).
      const { s, outputs } = await serveOutputs(t, 6, 5, 4000, 400);
      const local = tempDir(t);
      let progress = 0;
      for (let p = 0; p < 5; p++) {
        const dir = join(local, `r-${p}`);
        mkdirSync(dir);
        const sources = sourcesOf(s.url, outputs, p);
        assert.ok(sources.some((src) => src.length > 256 * 1024));
        const { options, reported } = testOptions(dir, { parallel, onProgress: (b) => (progress = b) });
        const refs = await fetchSegments(sources, options);
        assert.deepEqual(reported, []);
        assert.deepEqual(
          refs.map((r) => [r.source, r.length, r.records]),
          sources.map((src) => [src.mapAttemptId, src.length, src.records]),
        );
        assert.equal(
          progress,
          sources.reduce((n, src) => n + src.length, 0),
        );
        const originals = [...outputs].map(([id, out]) => segmentRefOf(out, p, id.split('_')[0]));
        assert.deepEqual(readMerged(refs, dir), readMerged(originals, dir));
        assert.equal(filesIn(dir).length, 6);
        assert.deepEqual(openFilesUnder(dir), []);
      }
      assert.equal(s.server.stats().responses.ok, 6 * 5);
    });
  }

  it('does not fetch empty segments; their refs have no path', async (t) => {
    const s = await startServer(t);
    const dir = tempDir(t);
    const out = await writeMapOutput(dir, 'm-00000_0', { numPartitions: 3, records: 50, partition: () => 1 });
    s.registry.set(JOB, new Map([['m-00000_0', out]]));
    const local = tempDir(t);
    const [empty] = await fetchSegments(
      sourcesOf(s.url, new Map([['m-00000_0', out]]), 0),
      testOptions(local).options,
    );
    assert.deepEqual(empty, { path: '', offset: 0, length: 0, records: 0, crc32: 0, source: 'm-00000_0' });
    assert.deepEqual(readMerged([empty], local), []);
    assert.equal(s.server.stats().responses.ok, 0);
    assert.deepEqual(filesIn(local), []);
  });

  it('reports a corrupted byte on disk as TSMR_CORRUPT_DATA naming the map attempt, after its retries', async (t) => {
    const { s, outputs } = await serveOutputs(t, 3, 2);
    const bad = outputs.get('m-00001_0') as MapOutput;
    const at = bad.partitions[1].offset + 7;
    const fd = openSync(bad.dataPath, 'r+');
    const byte = Buffer.alloc(1);
    readSync(fd, byte, 0, 1, at);
    writeSync(fd, Buffer.of(byte[0] ^ 0x40), 0, 1, at);
    closeSync(fd);
    const local = tempDir(t);
    const { options, delays, reported } = testOptions(local, { retries: 2 });
    await assert.rejects(
      fetchSegments(sourcesOf(s.url, outputs, 1), options),
      isFetchError('TSMR_CORRUPT_DATA', (e) => {
        assert.deepEqual(
          failuresOf(e).map((f) => [f.mapTaskId, f.mapAttemptId, f.partition, f.code]),
          [['m-00001', 'm-00001_0', 1, 'TSMR_CORRUPT_DATA']],
        );
        assert.match(String(failuresOf(e)[0].reason), /CRC-32 mismatch/);
        assert.match(e.message, /m-00001_0/);
      }),
    );
    assert.deepEqual(delays, [500, 1000]); // full jitter at random() = 0.5 of 1 s, 2 s
    assert.deepEqual(
      reported.map(([src, e]) => [src.mapAttemptId, e.code]),
      [['m-00001_0', 'TSMR_CORRUPT_DATA']],
    );
    assert.equal(s.server.stats().responses.ok, 2 + 3); // the good ones once, the bad one 3 times
    assert.deepEqual(filesIn(local), []);
    assert.deepEqual(openFilesUnder(local), []);
  });

  it('retries a server that answers 500 once, then succeeds', async (t) => {
    const { s, outputs } = await serveOutputs(t, 1, 2);
    let failures = 1;
    const flaky = await startServer(t, {
      lookup: (job, attempt) => {
        if (failures-- > 0) throw new Error('registry hiccup');
        return s.registry.get(job)?.get(attempt);
      },
    });
    const local = tempDir(t);
    const { options, delays, reported } = testOptions(local);
    const refs = await fetchSegments(sourcesOf(flaky.url, outputs, 0), options);
    assert.equal(readFileSync(refs[0].path).length, refs[0].length);
    assert.deepEqual(delays, [500]);
    assert.deepEqual(reported, []);
    assert.equal(flaky.server.stats().responses.failed, 1);
    assert.equal(flaky.server.stats().responses.ok, 1);
  });

  it('gives up on a port where nothing listens and on 404/410, goes on with the others, and removes every file', async (t) => {
    const { s, outputs } = await serveOutputs(t, 4, 2);
    s.registry.get(JOB)?.delete('m-00001_0'); // 404
    unlinkSync((outputs.get('m-00002_0') as MapOutput).dataPath); // 410
    const sources = sourcesOf(s.url, outputs, 0);
    sources[3] = { ...sources[3], url: `http://127.0.0.1:${await deadPort()}` };
    const local = tempDir(t);
    const { options, reported } = testOptions(local, { retries: 1 });
    await assert.rejects(
      fetchSegments(sources, options),
      isFetchError('TSMR_IO', (e) => {
        assert.deepEqual(
          failuresOf(e).map((f) => [f.mapAttemptId, f.reason]),
          [
            ['m-00001_0', 'HTTP 404 Not Found'],
            ['m-00002_0', 'HTTP 410 Gone'],
            ['m-00003_0', 'request failed (ECONNREFUSED)'],
          ],
        );
        assert.match(e.message, /3 of 4 map output segments/);
      }),
    );
    assert.equal(reported.length, 3);
    assert.equal(s.server.stats().responses.ok, 1); // m-00000_0 was fetched, then removed
    assert.deepEqual(filesIn(local), []);
  });

  it('gives up at once on a refused job key (TSMR_AUTH, one request) and on a server without the key', async (t) => {
    const { s, outputs } = await serveOutputs(t, 1, 2);
    const local = tempDir(t);
    const wrong = testOptions(local, { jobKey: deriveJobKey('wrong token', JOB) });
    await assert.rejects(
      fetchSegments(sourcesOf(s.url, outputs, 0), wrong.options),
      isFetchError('TSMR_AUTH', (e) => assert.equal(failuresOf(e)[0].code, 'TSMR_AUTH')),
    );
    assert.equal(s.server.stats().responses.unauthorized, 1);
    assert.deepEqual(wrong.delays, []);
    assert.equal(wrong.reported[0][1].code, 'TSMR_AUTH');

    // A server that serves the right facts but cannot sign its reply: it lacks the job key.
    const sources = sourcesOf(s.url, outputs, 0);
    const liar = await startFakeServer(t, (req, res) => {
      const src = sources[0];
      res.writeHead(200, {
        'content-length': src.length,
        [RECORDS_HEADER]: src.records,
        [CRC32_HEADER]: src.crc32,
        [REPLY_HEADER]: replySignature(Buffer.alloc(32), 'whatever', src),
      });
      res.end(Buffer.alloc(src.length));
    });
    const noKey = testOptions(local);
    await assert.rejects(
      fetchSegments([{ ...sources[0], url: liar }], noKey.options),
      isFetchError('TSMR_AUTH', (e) => assert.match(String(failuresOf(e)[0].reason), /reply signature/)),
    );
    assert.deepEqual(noKey.delays, []);
    assert.deepEqual(filesIn(local), []);
  });

  it('refuses a server whose index disagrees with the coordinator (TSMR_CORRUPT_DATA)', async (t) => {
    const { s, outputs } = await serveOutputs(t, 1, 2);
    const [source] = sourcesOf(s.url, outputs, 0);
    const local = tempDir(t);
    const { options } = testOptions(local, { retries: 0 });
    await assert.rejects(
      fetchSegments([{ ...source, records: source.records + 1 }], options),
      isFetchError('TSMR_CORRUPT_DATA', (e) =>
        assert.match(String(failuresOf(e)[0].reason), /server's index says/),
      ),
    );
    assert.deepEqual(filesIn(local), []);
  });

  it('retries a server that closes the connection mid-body, and times out a stalled one', async (t) => {
    const body = Buffer.alloc(100_000, 7);
    let tries = 0;
    const signedHeaders = (
      req: { headers: Record<string, string | string[] | undefined> },
      src: ShuffleSource,
    ) => {
      const sig = String(req.headers.authorization).split(' ')[1];
      return {
        'content-length': src.length,
        [RECORDS_HEADER]: src.records,
        [CRC32_HEADER]: src.crc32,
        [REPLY_HEADER]: replySignature(KEY, sig, src),
      };
    };
    const src: ShuffleSource = {
      url: '',
      jobId: JOB,
      mapTaskId: 'm-00000',
      mapAttemptId: 'm-00000_0',
      partition: 0,
      length: body.length,
      records: 1,
      crc32: crc32(body),
    };
    // Sends 1000 bytes and cuts the connection once the client has them.
    let cutNow = () => undefined as unknown;
    const cutter = await startFakeServer(t, (req, res) => {
      tries++;
      res.writeHead(200, signedHeaders(req, src));
      res.write(body.subarray(0, 1000));
      cutNow = () => res.destroy();
    });
    const local = tempDir(t);
    const seen: number[] = [];
    const onProgress = (b: number) => {
      seen.push(b);
      if (b === 1000) cutNow();
    };
    const cut = testOptions(local, { retries: 2, onProgress });
    await assert.rejects(
      fetchSegments([{ ...src, url: cutter }], cut.options),
      isFetchError('TSMR_IO', (e) =>
        assert.match(String(failuresOf(e)[0].reason), /connection broke .* of 100000 bytes/),
      ),
    );
    assert.equal(tries, 3);
    assert.equal(seen.filter((b) => b === 1000).length, 3);
    assert.equal(seen.at(-1), 0); // the bytes of a failed try no longer count

    const staller = await startFakeServer(t, (req, res) => {
      res.writeHead(200, signedHeaders(req, src));
      res.write(body.subarray(0, 1000)); // and nothing more
    });
    const stalled = testOptions(local, { retries: 0, timeoutMs: 150 });
    await assert.rejects(
      fetchSegments([{ ...src, url: staller }], stalled.options),
      isFetchError('TSMR_IO', (e) =>
        assert.match(String(failuresOf(e)[0].reason), /no data for 150 ms after 1000 of/),
      ),
    );
    assert.deepEqual(filesIn(local), []);
    assert.deepEqual(openFilesUnder(local), []);
  });

  it('stops promptly when the signal aborts, in a request and in a backoff wait', async (t) => {
    let requests = 0;
    const hanging = await startFakeServer(t, () => void requests++); // never answers
    const sources: ShuffleSource[] = [0, 1, 2].map((i) => ({
      url: hanging,
      jobId: JOB,
      mapTaskId: `m-0000${i}`,
      mapAttemptId: `m-0000${i}_0`,
      partition: 0,
      length: 10,
      records: 1,
      crc32: 1,
    }));
    const local = tempDir(t);
    const controller = new AbortController();
    const { options, reported } = testOptions(local, { signal: controller.signal });
    const fetching = fetchSegments(sources, options);
    await until(() => requests === 3, 'three requests to arrive');
    controller.abort();
    await assert.rejects(fetching, isFetchError('TSMR_CANCELLED'));
    assert.deepEqual(reported, []);

    // A backoff of 10 s on a real timer, cut short by the abort.
    const waiting = new AbortController();
    const retrying = fetchSegments([{ ...sources[0], url: `http://127.0.0.1:${await deadPort()}` }], {
      jobKey: KEY,
      dir: local,
      backoff: { initialDelay: 10_000, jitter: 0 },
      signal: waiting.signal,
      sleep: (ms, signal) => {
        waiting.abort();
        return delay(ms, undefined, { signal });
      },
    });
    const started = Date.now();
    await assert.rejects(retrying, isFetchError('TSMR_CANCELLED'));
    assert.ok(Date.now() - started < 5000);
    assert.deepEqual(filesIn(local), []);
  });

  it('never has more than `parallel` requests in flight', async (t) => {
    const { s, outputs } = await serveOutputs(t, 9, 1, 100);
    // The registry holds each request until 2 are waiting (or all 9 came), so requests overlap when they can.
    let maxActive = 0;
    let arrived = 0;
    let held: Array<() => void> = [];
    const gated = await startServer(t, {
      lookup: (job, attempt) => {
        maxActive = Math.max(maxActive, gated.server.stats().active);
        arrived++;
        const { promise, resolve } = Promise.withResolvers<void>();
        held.push(resolve);
        if (held.length === 2 || arrived === 9) {
          held.forEach((release) => release());
          held = [];
        }
        return promise.then(() => s.registry.get(job)?.get(attempt));
      },
    });
    const local = tempDir(t);
    const refs = await fetchSegments(
      sourcesOf(gated.url, outputs, 0),
      testOptions(local, { parallel: 2 }).options,
    );
    assert.equal(refs.length, 9);
    assert.equal(arrived, 9);
    assert.equal(maxActive, 2);
  });

  it('fetches over HTTPS from a server with a certificate the given CA vouches for', async (t) => {
    const dir = tempDir(t);
    try {
      execFileSync(
        'openssl',
        [
          ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
          ...['-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1'],
          ...['-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
        ],
        { stdio: 'ignore' },
      );
    } catch {
      return t.skip('openssl is not available');
    }
    const cert = readFileSync(join(dir, 'cert.pem'));
    const { s, outputs } = await serveOutputs(t, 2, 2);
    const secure = await startServer(t, {
      tls: { cert, key: readFileSync(join(dir, 'key.pem')) },
      lookup: (job, attempt) => s.registry.get(job)?.get(attempt),
    });
    assert.match(secure.url, /^https:/);
    const local = tempDir(t);
    const refs = await fetchSegments(
      sourcesOf(secure.url, outputs, 1),
      testOptions(local, { ca: cert }).options,
    );
    assert.equal(refs.length, 2);
    const untrusted = testOptions(tempDir(t), { retries: 0 });
    await assert.rejects(
      fetchSegments(sourcesOf(secure.url, outputs, 1), untrusted.options),
      isFetchError('TSMR_IO', (e) => assert.match(String(failuresOf(e)[0].reason), /SELF_SIGNED|CERT/)),
    );
  });

  it('stops everything on a local file error, leaving files it did not write alone', async (t) => {
    const { s, outputs } = await serveOutputs(t, 4, 1);
    const local = tempDir(t);
    writeFileSync(join(local, 'm-00002_0-0.segment'), 'not ours');
    const { options, reported } = testOptions(local, { parallel: 1 });
    await assert.rejects(
      fetchSegments(sourcesOf(s.url, outputs, 0), options),
      isFetchError('TSMR_IO', (e) => assert.match(e.message, /cannot create .*m-00002_0-0\.segment/)),
    );
    assert.deepEqual(reported, []);
    assert.deepEqual(filesIn(local), ['m-00002_0-0.segment']);
    assert.equal(readFileSync(join(local, 'm-00002_0-0.segment'), 'utf8'), 'not ours');
    await until(() => s.server.stats().active === 0, 'the server to finish');
    const asked = Object.values(s.server.stats().responses).reduce((a, b) => a + b, 0);
    assert.equal(asked, 3); // m-00003_0 was never asked for
  });

  it('refuses bad options and sources before fetching anything', async (t) => {
    const local = tempDir(t);
    const good: ShuffleSource = {
      url: 'http://127.0.0.1:1',
      jobId: JOB,
      mapTaskId: 'm-00000',
      mapAttemptId: 'm-00000_0',
      partition: 0,
      length: 1,
      records: 1,
      crc32: 0,
    };
    const cases: Array<[ShuffleSource[], Partial<FetchSegmentsOptions>]> = [
      [[good], { parallel: 0 }],
      [[good], { retries: -1 }],
      [[{ ...good, mapAttemptId: '../../etc/passwd' }], {}],
      [[{ ...good, jobId: 'job-x' }], {}],
      [[{ ...good, mapTaskId: 'm-00001' }], {}],
      [[{ ...good, url: 'file:///etc/passwd' }], {}],
      [[{ ...good, url: 'not a url' }], {}],
      [[{ ...good, length: -1 }], {}],
      [[{ ...good, crc32: 2 ** 32 }], {}],
      [[{ ...good, length: 0 }], {}],
      [[good, good], {}],
    ];
    for (const [sources, extra] of cases) {
      await assert.rejects(
        fetchSegments(sources, { jobKey: KEY, dir: local, ...extra }),
        isFetchError('TSMR_USAGE'),
      );
    }
  });
});
