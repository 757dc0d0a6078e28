/**
 * Parallel batch processing: `runBatch` and its summaries.
 */
export { runBatch, defaultAsyncConcurrency } from './run-batch.ts';
export { BatchRun } from './batch-run.ts';
export { collect, consume, summarize, SummaryBuilder } from './summary.ts';
export type { BatchSummary, LatencySummary } from './summary.ts';
export type { BatchItems } from './item-source.ts';
export type {
  BackoffOptions,
  BatchContext,
  BatchFailure,
  BatchFn,
  BatchMode,
  BatchOptions,
  BatchProgress,
  BatchResult,
  BatchSuccess,
  ModuleFn,
  RetryEvent,
} from './types.ts';
