import type { TaskContext } from '../api/types.ts';
import { CounterSet } from './counters.ts';
import type { TaskMessage } from './messages.ts';

/** What every attempt keeps about itself: its context, counters and last status. */
export interface AttemptState {
  /** The {@link TaskContext} every user function of the attempt sees. */
  ctx: TaskContext;
  counters: CounterSet;
  /** The last text given to `ctx.setStatus`, if any. */
  status(): string | undefined;
}

/** Creates the context, counters and status of one attempt (or of the input sampler, `input-sampler.ts`). */
export function createAttemptState(
  msg: Pick<TaskMessage, 'jobId' | 'taskId' | 'attempt' | 'params' | 'numReducers'>,
): AttemptState {
  const counters = new CounterSet();
  let status: string | undefined;
  const ctx: TaskContext = {
    jobId: msg.jobId,
    taskId: msg.taskId,
    attempt: msg.attempt,
    params: Object.freeze({ ...msg.params }),
    numReducers: msg.numReducers,
    counter: (group, name) => counters.counter(group, name),
    setStatus: (text) => {
      status = text;
    },
  };
  return { ctx, counters, status: () => status };
}
