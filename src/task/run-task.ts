import type { JobBody } from './job-body.ts';
import { runMapTask } from './map-task.ts';
import type { TaskMessage, TaskProgress, TaskResult } from './messages.ts';
import { runReduceTask } from './reduce-task.ts';

/** Runs one attempt of a map or reduce task in this thread. */
export function runTask(
  msg: TaskMessage,
  body: JobBody,
  onProgress: (p: TaskProgress) => void,
): Promise<TaskResult> {
  return msg.kind === 'map' ? runMapTask(msg, body, onProgress) : runReduceTask(msg, body, onProgress);
}
