import { isTotalOrder } from '../api/total-order.ts';
import { inputMaps } from '../api/define-job.ts';
import type { Job, JobInput, Key, Values } from '../api/types.ts';
import { normalizeInputFormat } from '../io/record-reader.ts';
import { normalizeOutputFormat } from '../io/output-writer.ts';
import type { Combiner } from '../shuffle/map-output-collector.ts';
import type { BodyInput, JobBody } from './job-body.ts';

/** Adapts a `defineJob` job to the task runner's {@link JobBody}. */
export function moduleJobBody(job: Job, name: string): JobBody {
  const { combine, reduce } = job;
  const maps = inputMaps(job);
  return {
    name: job.name ?? name,
    inputFormat: normalizeInputFormat(job.inputFormat),
    outputFormat: normalizeOutputFormat(job.outputFormat),
    reducers: job.reducers ?? (job.reduce === undefined ? 0 : undefined),
    partition: isTotalOrder(job.partition) ? undefined : job.partition,
    totalOrder: isTotalOrder(job.partition) ? job.partition : undefined,
    groupBy: job.groupBy,
    inputs: job.inputs?.map((input) => bodyInput(input, job)),
    files: job.files,
    combineValues: job.combineValues,
    mapper(ctx) {
      const map = maps[ctx.input]!;
      return { record: (key, value) => map(key, value, ctx) };
    },
    combiner:
      combine === undefined
        ? undefined
        : (ctx) => {
            const combiner: Combiner = (groups, emit) => {
              const combineCtx = Object.create(ctx, { emit: { value: emit } });
              const it = groups[Symbol.iterator]();
              // Sync combiners run in one loop; the first promise switches to an async loop.
              for (let next = it.next(); !next.done; next = it.next()) {
                const result = combine(next.value.key as Key, next.value.values, combineCtx);
                if (isThenable(result)) return finishAsync(result, it, combine, combineCtx);
              }
            };
            return combiner;
          },
    reducer:
      reduce === undefined ? undefined : (ctx) => ({ group: (key, values) => reduce(key, values, ctx) }),
  };
}

function bodyInput(input: JobInput, job: Job): BodyInput {
  const paths = input.paths;
  return {
    paths: (params) => {
      const given = typeof paths === 'function' ? paths(params) : paths;
      return typeof given === 'string' ? [given] : [...given];
    },
    inputFormat: normalizeInputFormat(input.inputFormat ?? job.inputFormat),
  };
}

async function finishAsync(
  pending: PromiseLike<void>,
  it: Iterator<{ key: Key; values: Values<unknown> }>,
  combine: NonNullable<Job['combine']>,
  ctx: unknown,
): Promise<void> {
  await pending;
  for (let next = it.next(); !next.done; next = it.next()) {
    await combine(next.value.key, next.value.values, ctx as never);
  }
}

export function isThenable(value: unknown): value is PromiseLike<void> {
  return (
    typeof value === 'object' && value !== null && typeof (value as PromiseLike<void>).then === 'function'
  );
}

/** Calls a body's `abort()` after a failure; an error there must not hide the attempt's own error. */
export function abortQuietly(body: { abort?(): void } | undefined): void {
  try {
    body?.abort?.();
  } catch {
    // The attempt already failed with the error that matters.
  }
}
