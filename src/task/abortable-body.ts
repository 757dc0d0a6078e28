/**
 * Cooperative kill of an attempt, and the error a killed attempt fails with.
 * Attempts that run in this thread (`workers: 0`) cannot be terminated the
 * way a worker thread is, and a worker thread's termination can be lost
 * (`src/task/worker.ts`), so, like Hadoop's task runner, which checks for
 * interruption between records, the wrapped mapper and reducer check the
 * signal before each record, group and `close`.
 */
import { ErrorCode, TsmrError } from '../errors.ts';
import type { JobBody } from './job-body.ts';
import type { TaskMessage } from './messages.ts';

/**
 * `body`, whose mappers and reducers throw `signal.reason` at their next
 * `record`, `group` or `close` once `signal` is aborted; the task runner then
 * aborts them (`abort()`) and the attempt fails with that reason. A user
 * function already running is not interrupted: the attempt stops when it returns.
 */
export function abortableBody(body: JobBody, signal: AbortSignal): JobBody {
  const check = (): void => signal.throwIfAborted();
  const reduce = body.reducer;
  return {
    ...body,
    async mapper(ctx) {
      const mapper = await body.mapper(ctx);
      return {
        record(key, value) {
          check();
          return mapper.record(key, value);
        },
        close() {
          check();
          return mapper.close?.();
        },
        abort: () => mapper.abort?.(),
      };
    },
    reducer:
      reduce &&
      (async (ctx) => {
        const reducer = await reduce(ctx);
        return {
          group(key, values) {
            check();
            return reducer.group(key, values);
          },
          close() {
            check();
            return reducer.close?.();
          },
          abort: () => reducer.abort?.(),
        };
      }),
  };
}

/** The error of an attempt stopped by `kill(reason)`. */
export function killed(msg: Pick<TaskMessage, 'taskId' | 'attempt'>, reason: string): TsmrError {
  return new TsmrError(ErrorCode.CANCELLED, `attempt ${msg.attempt} of ${msg.taskId} was killed: ${reason}`, {
    details: { taskId: msg.taskId, attempt: msg.attempt },
  });
}
