/**
 * Cooperative kill for attempts that run in this thread (`workers: 0`), which
 * cannot be terminated the way a worker thread is. Like Hadoop's task runner,
 * which checks for interruption between records, the wrapped mapper and reducer
 * check the signal before each record, group and `close`.
 */
import type { JobBody } from './job-body.ts';

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
