/**
 * A cluster worker's Prometheus metrics (prom-client), served as
 * `GET /metrics` on its shuffle port. The counters are the worker's own
 * (Hadoop's NodeManager and ShuffleHandler report the same: containers
 * launched/failed, shuffle output bytes, fetch failures); gauges are read at
 * each scrape.
 *
 * | metric | type | labels |
 * | --- | --- | --- |
 * | `tsmr_worker_slots` | gauge: task slots (threads) | |
 * | `tsmr_worker_slots_busy` | gauge: slots running an attempt now | |
 * | `tsmr_worker_attempts_total` | counter: attempts ended | `kind` = map, reduce |
 * | `tsmr_worker_attempts_failed_total` | counter: attempts ended in failure (killed ones too) | `kind` |
 * | `tsmr_worker_map_outputs` | gauge: map outputs held | |
 * | `tsmr_worker_shuffle_bytes_served_total` | counter: segment bytes the shuffle server sent | |
 * | `tsmr_worker_fetch_failures_total` | counter: map outputs its reduce attempts could not fetch | |
 * | `tsmr_worker_incarnation` | gauge: the current incarnation (0 before the first registration) | |
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Gauge, Registry } from 'prom-client';
import type { TaskKind } from '../../engine/scheduler-types.ts';

/** What the gauges read at each scrape. */
export interface WorkerGauges {
  slots: number;
  busy(): number;
  mapOutputs(): number;
  /** Bytes served since the worker started (monotonic). */
  bytesServed(): number;
  incarnation(): number;
}

export interface WorkerMetrics {
  attemptEnded(kind: TaskKind, ok: boolean): void;
  fetchFailed(): void;
  /** The prometheus text, as `/metrics` serves it. */
  render(): Promise<string>;
  /** The `/metrics` route for the shuffle server (`httpRoutes`): true when it handled the request. */
  route(req: IncomingMessage, res: ServerResponse): boolean;
}

export function createWorkerMetrics(gauges: WorkerGauges): WorkerMetrics {
  const registers = [new Registry()];
  const [registry] = registers;
  const gauge = (name: string, help: string, read: () => number): void => {
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(read());
      },
    });
  };
  gauge('tsmr_worker_slots', 'Task slots (threads) of the worker.', () => gauges.slots);
  gauge('tsmr_worker_slots_busy', 'Task slots running an attempt now.', gauges.busy);
  gauge('tsmr_worker_map_outputs', 'Map outputs the worker holds and serves.', gauges.mapOutputs);
  gauge(
    'tsmr_worker_incarnation',
    'Current incarnation (0 before the first registration).',
    gauges.incarnation,
  );
  const attempts = new Counter({
    name: 'tsmr_worker_attempts_total',
    help: 'Task attempts ended on the worker.',
    labelNames: ['kind'],
    registers,
  });
  const failed = new Counter({
    name: 'tsmr_worker_attempts_failed_total',
    help: 'Task attempts ended in failure on the worker (killed ones included).',
    labelNames: ['kind'],
    registers,
  });
  for (const kind of ['map', 'reduce']) {
    attempts.inc({ kind }, 0);
    failed.inc({ kind }, 0);
  }
  let served = 0;
  new Counter({
    name: 'tsmr_worker_shuffle_bytes_served_total',
    help: 'Map output segment bytes the shuffle server sent.',
    registers,
    collect() {
      const now = gauges.bytesServed();
      this.inc(now - served);
      served = now;
    },
  });
  const fetchFailures = new Counter({
    name: 'tsmr_worker_fetch_failures_total',
    help: 'Map outputs that reduce attempts on the worker could not fetch.',
    registers,
  });

  const render = () => registry.metrics();
  return {
    attemptEnded(kind, ok) {
      attempts.inc({ kind });
      if (!ok) failed.inc({ kind });
    },
    fetchFailed: () => fetchFailures.inc(),
    render,
    route(req, res) {
      if (req.url !== '/metrics') return false;
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return true;
      }
      render().then(
        (text) => {
          res.writeHead(200, {
            'content-type': registry.contentType,
            'content-length': Buffer.byteLength(text),
          });
          res.end(req.method === 'HEAD' ? undefined : text);
        },
        () => res.writeHead(500).end(),
      );
      return true;
    },
  };
}
