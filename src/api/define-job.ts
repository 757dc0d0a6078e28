import { ErrorCode, TsmrError } from '../errors.ts';
import type { Job, JobDefinition, Key } from './types.ts';

/**
 * The jobs defined in this thread, by the URL of the module that defined them,
 * in definition order. A worker thread imports a job's module and finds the
 * job here again (`src/task/load-job.ts`). Kept on `globalThis` so that two
 * copies of tsmr in one thread share it.
 */
const definedJobs: Map<string, WeakRef<Job>[]> = ((globalThis as Record<symbol, unknown>)[
  Symbol.for('tsmr.definedJobs')
] ??= new Map<string, WeakRef<Job>[]>()) as Map<string, WeakRef<Job>[]>;

/**
 * The jobs `moduleUrl` defined in this thread so far, in definition order
 * (`undefined` where a job defined inside a function was garbage-collected).
 */
export function jobsDefinedIn(moduleUrl: string): (Job | undefined)[] {
  return (definedJobs.get(moduleUrl) ?? []).map((ref) => ref.deref());
}

/**
 * Defines a job. Define it at the top level of a module, so that worker
 * threads (and remote workers) can import that module and find it again:
 *
 * ```ts
 * export default defineJob({
 *   map(offset, line, ctx: MapContext<string, number>) { for (const w of line.split(' ')) ctx.emit(w, 1); },
 *   reduce(word, counts, ctx) { let n = 0; for (const c of counts) n += c; ctx.emit(word, n); },
 * });
 * ```
 *
 * Type parameters, in the order of the data: `KI`, `VI` the input record's
 * key and value (text input: the line's byte offset and the line, the
 * defaults `number` and `string`); `K`, `V` map's output key and value, which
 * `combine`, `combineValues`, `partition` and `reduce` receive; `KO`, `VO`
 * reduce's output key and value. TypeScript infers no type from the
 * `ctx.emit(…)` calls in a function body, so a job says once what map emits:
 * by the type of map's `ctx` (`MapContext<string, number>` above: `counts`
 * are then `Values<number>`, and emitting anything else does not type-check),
 * by the parameter types of an arrow function `combineValues`
 * (`(a: number, b: number) => a + b`), or by type arguments
 * (`defineJob<number, string, string, number, string, number>({ … })`).
 * Without any of these, `K` is any {@link Key} and `V` is `unknown`.
 *
 * The calling module's URL and the job's position among that module's
 * `defineJob` calls are recorded (from the call stack), so that `runJob(job, …)`
 * can find the job again in a worker thread, which imports the module; the job
 * need not be exported. A module that also runs the job (`await runJob(job, …)`
 * at its top level) must guard that call with `if (import.meta.main)` (Node ≥
 * 24.2), since worker threads import the module again; with `{ workers: 0 }`
 * nothing is imported again and any job works.
 *
 * @throws TsmrError `TSMR_BAD_JOB` when `map` or `reduce` is missing or not a
 *   function, an optional member has the wrong type, `reducers` or `groupBy`
 *   is not an integer >= 1, or both `combine` and `combineValues` are given.
 */
export function defineJob<
  KI = number,
  VI = string,
  K extends Key = Key,
  V = unknown,
  KO = unknown,
  VO = unknown,
>(definition: JobDefinition<KI, VI, K, V, KO, VO>): Job<KI, VI, K, V, KO, VO> {
  validateJobDefinition(definition, 'defineJob()');
  const moduleUrl = callerModuleUrl();
  let siblings: WeakRef<Job>[] = [];
  if (moduleUrl !== undefined) {
    siblings = definedJobs.get(moduleUrl) ?? [];
    definedJobs.set(moduleUrl, siblings);
  }
  const job = Object.freeze({
    ...definition,
    __tsmrJob: true as const,
    moduleUrl,
    definitionIndex: siblings.length,
  });
  siblings.push(new WeakRef(job as Job));
  return job;
}

/** True when `value` was made by {@link defineJob} (in any realm). */
export function isJob(value: unknown): value is Job {
  return typeof value === 'object' && value !== null && (value as { __tsmrJob?: unknown }).__tsmrJob === true;
}

/**
 * Checks the shape of a job definition.
 * @throws TsmrError `TSMR_BAD_JOB` naming `where` and the missing or wrong member.
 */
export function validateJobDefinition(definition: unknown, where: string): void {
  if (typeof definition !== 'object' || definition === null) {
    throw new TsmrError(ErrorCode.BAD_JOB, `${where}: a job must be an object with map and reduce functions`);
  }
  const d = definition as Record<string, unknown>;
  for (const name of ['map', 'reduce'] as const) {
    if (typeof d[name] !== 'function') {
      throw new TsmrError(
        ErrorCode.BAD_JOB,
        `${where}: the job has no ${name} function (export default defineJob({ map, reduce }))`,
      );
    }
  }
  for (const name of ['combine', 'combineValues', 'partition'] as const) {
    if (d[name] !== undefined && typeof d[name] !== 'function') {
      throw new TsmrError(ErrorCode.BAD_JOB, `${where}: the job's ${name} must be a function`);
    }
  }
  for (const name of ['combineValues', 'partition'] as const) {
    if (isAsyncFunction(d[name])) {
      throw new TsmrError(
        ErrorCode.BAD_JOB,
        `${where}: the job's ${name} is an async function; it must be synchronous and return its result`,
      );
    }
  }
  if (d.combine !== undefined && d.combineValues !== undefined) {
    throw new TsmrError(
      ErrorCode.BAD_JOB,
      `${where}: the job has both combine and combineValues; give one (combineValues folds values as they are emitted, combine is then not needed)`,
    );
  }
  if (d.reducers !== undefined && !(Number.isInteger(d.reducers) && (d.reducers as number) >= 1)) {
    throw new TsmrError(ErrorCode.BAD_JOB, `${where}: reducers must be an integer >= 1`);
  }
  if (d.groupBy !== undefined && !(Number.isSafeInteger(d.groupBy) && (d.groupBy as number) >= 1)) {
    throw new TsmrError(
      ErrorCode.BAD_JOB,
      `${where}: groupBy must be an integer >= 1 (the number of leading tuple-key elements reduce groups by), got ${String(d.groupBy)}`,
    );
  }
}

function isAsyncFunction(f: unknown): boolean {
  return (
    typeof f === 'function' &&
    (f.constructor.name === 'AsyncFunction' || f.constructor.name === 'AsyncGeneratorFunction')
  );
}

const frameUrl = /(file:\/\/[^\s)]+?):\d+:\d+\)?$/;

/** URL of the first module on the stack that is not this file. */
function callerModuleUrl(): string | undefined {
  const stack = new Error().stack?.split('\n') ?? [];
  for (const line of stack.slice(1)) {
    const url = frameUrl.exec(line.trim())?.[1];
    if (url !== undefined && url !== import.meta.url) return url;
  }
  return undefined;
}
