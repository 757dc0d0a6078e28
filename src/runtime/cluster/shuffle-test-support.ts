/**
 * Helpers shared by the cluster shuffle's tests (not used by the runtime):
 * real map output files, a shuffle server on 127.0.0.1 with a registry and
 * a captured log, raw HTTP requests, and checks for open files.
 */
import { readdirSync, readlinkSync } from 'node:fs';
import http from 'node:http';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import pino from 'pino';
import type { Key } from '../../api/types.ts';
import { groupByKey } from '../../shuffle/grouper.ts';
import { MapOutputCollector } from '../../shuffle/map-output-collector.ts';
import type { MapOutput } from '../../shuffle/map-output.ts';
import { mergeSegments } from '../../shuffle/merger.ts';
import type { SegmentRef } from '../../shuffle/segment-reader.ts';
import { deriveJobKey } from './shuffle-auth.ts';
import type { ShuffleSource } from './segment-copy.ts';
import { createShuffleServer } from './shuffle-server.ts';
import type { ServedMapOutput, ShuffleServer, ShuffleServerOptions } from './shuffle-server.ts';

export const JOB = 'job-20261201-121943-a1b2c3';
export const OTHER_JOB = 'job-20261201-121943-bbbbbb';
export const TOKEN = 'test cluster token';
export const KEY = deriveJobKey(TOKEN, JOB);

type TestContext = { after(fn: () => unknown): void };

/**
 * Writes a real map output with the map-side collector: `records` pairs
 * `(key-<i mod keys>, value)` where every value is `valueBytes` long, spread
 * over `numPartitions` partitions by the default partitioner (or `partition`).
 */
export async function writeMapOutput(
  dir: string,
  mapAttemptId: string,
  opts: {
    numPartitions: number;
    records: number;
    keys?: number;
    valueBytes?: number;
    partition?: (k: Key) => number;
  },
): Promise<MapOutput> {
  const part = opts.partition;
  const collector = new MapOutputCollector({
    numPartitions: opts.numPartitions,
    ...(part ? { partition: (_: Buffer, key: Key) => part(key) } : {}),
    sortBufferBytes: 1 << 20,
    dir,
    name: mapAttemptId,
    counters: { add: () => undefined },
  });
  const pad = 'v'.repeat(opts.valueBytes ?? 8);
  for (let i = 0; i < opts.records; i++) {
    collector.emit(`key-${i % (opts.keys ?? 1000)}`, `${mapAttemptId}:${i}:${pad}`);
    if (collector.full) await collector.spill();
  }
  return collector.finish();
}

/** Every `(key, values)` of the merged segments, in merge order. */
export function readMerged(refs: readonly SegmentRef[], tmpDir: string): Array<[Key, unknown[]]> {
  const out: Array<[Key, unknown[]]> = [];
  for (const g of groupByKey(mergeSegments(refs, { fanIn: 4, tmpDir }))) out.push([g.key, [...g.values]]);
  return out;
}

/** The sources of `partition` of each output, served at `url`. */
export function sourcesOf(
  url: string,
  outputs: ReadonlyMap<string, Pick<MapOutput, 'partitions'>>,
  partition: number,
): ShuffleSource[] {
  return [...outputs].map(([mapAttemptId, out]) => {
    const { length, records, crc32 } = out.partitions[partition];
    return {
      url,
      jobId: JOB,
      mapTaskId: mapAttemptId.split('_')[0],
      mapAttemptId,
      partition,
      length,
      records,
      crc32,
    };
  });
}

export interface LogLine {
  level: number;
  msg: string;
  [name: string]: unknown;
}

export interface TestServer {
  server: ShuffleServer;
  url: string;
  /** jobId → mapAttemptId → location. */
  registry: Map<string, Map<string, ServedMapOutput>>;
  logs: LogLine[];
  /** Raw log text, to check that no secret was written. */
  logText: () => string;
}

/** Starts a shuffle server on 127.0.0.1 serving `registry` (closed after the test). */
export async function startServer(
  t: TestContext,
  opts: Partial<ShuffleServerOptions> = {},
): Promise<TestServer> {
  const registry = new Map<string, Map<string, ServedMapOutput>>();
  const logs: LogLine[] = [];
  let text = '';
  const logger = pino(
    { level: 'debug' },
    {
      write(line: string) {
        text += line;
        logs.push(JSON.parse(line) as LogLine);
      },
    },
  );
  const server = createShuffleServer({
    host: '127.0.0.1',
    port: 0,
    jobKey: (jobId) => (jobId === JOB ? KEY : undefined),
    lookup: (jobId, mapAttemptId) => registry.get(jobId)?.get(mapAttemptId),
    logger,
    ...opts,
  });
  t.after(() => server.close());
  const { url } = await server.listen();
  return { server, url, registry, logs, logText: () => text };
}

/** A plain HTTP server on 127.0.0.1 with `handler` (closed after the test); resolves with its base URL. */
export async function startFakeServer(t: TestContext, handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  t.after(() => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

/** One request without an agent (no keep-alive), any target; the whole body is read. */
export function request(
  url: string,
  target: string,
  opts: { method?: string; headers?: OutgoingHttpHeaders } = {},
): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(url);
    const req = http.request({
      hostname,
      port,
      path: target,
      method: opts.method ?? 'GET',
      headers: opts.headers,
      agent: false,
    });
    req.on('error', reject).on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c)).on('error', reject);
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
    });
    req.end();
  });
}

/** Files under `dir` that this process has open (from `/proc/self/fd`). */
export function openFilesUnder(dir: string): string[] {
  const open: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith(`${dir}/`)) open.push(target);
    } catch {
      // closed meanwhile
    }
  }
  return open;
}

/** Polls `condition` every 5 ms until it holds; fails after `ms` (default 5 s). */
export async function until(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
