/**
 * The sample phase of a total-order job: samples map output keys
 * (`input-sampler.ts`), picks the split points (`split-points.ts`) and
 * reports the phase. Runs after the splits are planned and before the
 * driver starts the map tasks, which get the split points in their messages.
 */
import type { TotalOrderPartitioner } from '../api/total-order.ts';
import type { PhaseProgress, PhaseReport, TotalOrderReport } from '../engine/job-report.ts';
import type { Split } from '../io/splits.ts';
import { chooseSplitPoints } from '../shuffle/split-points.ts';
import { encodeSplitPoints } from '../shuffle/total-order-partitioner.ts';
import { sampleMapOutputKeys } from '../task/input-sampler.ts';
import type { JobBody } from '../task/job-body.ts';
import type { TotalOrderSpec } from '../task/messages.ts';
import type { JobSettings } from './settings.ts';

export interface TotalOrderPlan {
  /** What map task messages carry. */
  spec: TotalOrderSpec;
  phase: PhaseReport;
  report: TotalOrderReport;
}

/**
 * Samples the input and chooses `settings.reducers − 1` split points (fewer
 * when the sample has fewer distinct keys).
 * @param onProgress gets the sample phase's progress after each window read.
 * @throws the sampler's errors (see `sampleMapOutputKeys`).
 */
export async function planTotalOrder(input: {
  jobId: string;
  splits: readonly Split[];
  body: JobBody;
  partitioner: TotalOrderPartitioner;
  settings: JobSettings;
  signal?: AbortSignal;
  onProgress(progress: PhaseProgress): void;
}): Promise<TotalOrderPlan> {
  const { settings, partitioner } = input;
  const startedAt = Date.now();
  const progress = (p: { windowsDone: number; windowsTotal: number; records: number; bytes: number }) => ({
    phase: 'sample' as const,
    tasksTotal: p.windowsTotal,
    tasksDone: p.windowsDone,
    tasksRunning: p.windowsDone < p.windowsTotal ? 1 : 0,
    bytesTotal: 0,
    bytesDone: p.bytes,
    records: p.records,
    startedAt,
  });
  const sample = await sampleMapOutputKeys(input.splits, input.body, input.body.inputFormat, {
    partitioner,
    seed: settings.seed,
    jobId: input.jobId,
    params: settings.params,
    numReducers: settings.reducers,
    signal: input.signal,
    onProgress: (p) => input.onProgress(progress(p)),
  });
  const points = chooseSplitPoints(sample.sampledKeys, settings.reducers);
  const finishedAt = Date.now();
  const durationMs = finishedAt - startedAt;
  input.onProgress({ ...progress(sample), tasksRunning: 0, finishedAt });
  return {
    spec: { splitPoints: encodeSplitPoints(points) },
    phase: {
      tasks: sample.windowsTotal,
      startedAt,
      finishedAt,
      durationMs,
      inputBytes: sample.bytes,
      inputRecords: sample.records,
      outputRecords: sample.keys,
      throughputMBps: durationMs > 0 ? sample.bytes / 1e6 / (durationMs / 1000) : 0,
    },
    report: {
      sampler: partitioner.sampler,
      samples: partitioner.samples,
      sampledKeys: sample.keys,
      splitsSampled: sample.splits,
      splitPoints: points.length,
    },
  };
}
