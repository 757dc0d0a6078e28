/**
 * The coordinator's `/metrics`: workers by state, slots, jobs by state and
 * attempts, rendered from the registry and the job queue at each scrape.
 */
import type { Metric } from '../../observe/metrics.ts';
import type { ClusterJobs } from './cluster-jobs.ts';
import type { JobState, WorkerState } from './wire-status.ts';
import type { WorkerRegistry } from './worker-registry.ts';

const workerStates: readonly WorkerState[] = ['alive', 'suspect', 'dead', 'excluded'];
const jobStates: readonly JobState[] = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];

export function coordinatorMetrics(registry: WorkerRegistry, jobs: ClusterJobs): Metric[] {
  const workers = registry.status();
  const list = jobs.list();
  const count = <T>(items: readonly T[], pick: (t: T) => number) => items.reduce((n, t) => n + pick(t), 0);
  return [
    {
      name: 'tsmr_coordinator_workers',
      help: 'Workers known to the coordinator, by state (their latest incarnation).',
      type: 'gauge',
      samples: workerStates.map((state) => ({
        labels: { state },
        value: workers.filter((w) => w.state === state).length,
      })),
    },
    {
      name: 'tsmr_coordinator_slots',
      help: 'Task slots of live workers, by use.',
      type: 'gauge',
      samples: [
        { labels: { use: 'total' }, value: count(workers, (w) => (w.state === 'dead' ? 0 : w.slotsTotal)) },
        { labels: { use: 'busy' }, value: count(workers, (w) => w.slotsBusy) },
      ],
    },
    {
      name: 'tsmr_coordinator_jobs',
      help: 'Jobs the coordinator remembers, by state.',
      type: 'gauge',
      samples: jobStates.map((state) => ({
        labels: { state },
        value: list.filter((j) => j.state === state).length,
      })),
    },
    {
      name: 'tsmr_coordinator_attempts_total',
      help: 'Task attempts leased to workers, by outcome reported.',
      type: 'counter',
      samples: [
        { labels: { outcome: 'run' }, value: count(workers, (w) => w.attemptsRun) },
        { labels: { outcome: 'failed' }, value: count(workers, (w) => w.attemptsFailed) },
      ],
    },
    {
      name: 'tsmr_coordinator_shuffle_bytes_served_total',
      help: 'Bytes of map output segments the workers served, as their heartbeats report it.',
      type: 'counter',
      samples: [{ value: count(workers, (w) => w.shuffleBytesServed) }],
    },
  ];
}
