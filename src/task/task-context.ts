import type { TaskContext } from '../api/types.ts';
import type { CounterSet } from './counters.ts';
import type { TaskMessage } from './messages.ts';

/** Builds the {@link TaskContext} every user function of an attempt sees. */
export function createTaskContext(
  msg: TaskMessage,
  counters: CounterSet,
  onStatus: (text: string) => void,
): TaskContext {
  return {
    jobId: msg.jobId,
    taskId: msg.taskId,
    attempt: msg.attempt,
    params: Object.freeze({ ...msg.params }),
    numReducers: msg.numReducers,
    counter: (group, name) => counters.counter(group, name),
    setStatus: onStatus,
  };
}
