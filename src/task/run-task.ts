import { FoldTableCache } from '../shuffle/fold-table.ts';
import type { JobBody } from './job-body.ts';
import { runMapTask } from './map-task.ts';
import type { TaskMessage, TaskProgress, TaskResult } from './messages.ts';
import { runReduceTask } from './reduce-task.ts';

/**
 * This thread's fold table, passed from one map task to the next
 * (`FoldTableCache`); dropped when the thread starts a reduce task, as the map
 * phase is then mostly over.
 */
const foldTableCache = new FoldTableCache();

/** Runs one attempt of a map or reduce task in this thread. */
export function runTask(
  msg: TaskMessage,
  body: JobBody,
  onProgress: (p: TaskProgress) => void,
): Promise<TaskResult> {
  if (msg.kind === 'map') return runMapTask(msg, body, onProgress, foldTableCache);
  foldTableCache.clear();
  return runReduceTask(msg, body, onProgress);
}
