/**
 * tsmr: MapReduce for TypeScript. What job code and programs import.
 */
export { defineJob, isJob } from './api/define-job.ts';
export { definePipeline, isPipeline } from './api/pipeline.ts';
export type { Pipeline, PipelineStep } from './api/pipeline.ts';
export { totalOrder } from './api/total-order.ts';
export type { SamplerKind, TotalOrderOptions, TotalOrderPartitioner } from './api/total-order.ts';
export type {
  CombineContext,
  Counter,
  InputFormat,
  Job,
  JobDefinition,
  JobInput,
  Key,
  KeyAtom,
  KeyedValues,
  MapContext,
  OutputFormat,
  ReduceContext,
  TaskContext,
  Value,
  Values,
} from './api/types.ts';
export { ErrorCode, ExitCode, isTsmrError, TsmrError } from './errors.ts';
export type {
  AttemptRecord,
  JobReport,
  JobStart,
  PipelineReport,
  PipelineStepPosition,
  PipelineStepReport,
  ProgressSnapshot,
} from './engine/job-report.ts';
export type { AttemptHistoryEntry } from './engine/scheduler-types.ts';
export type { WorkerReport } from './engine/worker-report.ts';
export { collectResults, JobHandle, runJob } from './runtime/run-job.ts';
export type { ResultRecord, RunOptions } from './runtime/run-options.ts';
export { PipelineHandle, runPipeline } from './runtime/run-pipeline.ts';
export type { PipelineHandleEvents, PipelineRunOptions, PipelineStepStart } from './runtime/run-pipeline.ts';
export * from './batch/index.ts';
