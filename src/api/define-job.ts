import { ErrorCode, TsmrError } from '../errors.ts';
import { isTotalOrder } from './total-order.ts';
import type { Job, JobDefinition, Key, MapContext } from './types.ts';

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
 * @throws TsmrError `TSMR_BAD_JOB` when `map` is missing (unless every input
 *   has one) or not a function, `reduce` is not a function (or missing with
 *   `reducers` other than 0), `inputs` or `files` are malformed, an optional
 *   member has the wrong type (`partition`: a function or `totalOrder()`),
 *   `reducers` is not an integer >= 0, `groupBy` not one >= 1, or both
 *   `combine` and `combineValues` are given.
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
  return defineJobAt(definition, callerModuleUrl());
}

/**
 * {@link defineJob} for a definition already checked, as if `moduleUrl` had
 * called it (`definePipeline` defines its steps' jobs in its caller's module).
 * @internal
 */
export function defineJobAt<KI, VI, K extends Key, V, KO, VO>(
  definition: JobDefinition<KI, VI, K, V, KO, VO>,
  moduleUrl: string | undefined,
): Job<KI, VI, K, V, KO, VO> {
  let siblings: WeakRef<Job>[] = [];
  if (moduleUrl !== undefined) {
    siblings = definedJobs.get(moduleUrl) ?? [];
    definedJobs.set(moduleUrl, siblings);
  }
  const maps = inputMaps(definition);
  const job = Object.freeze({
    ...definition,
    // With inputs: the map of each record's input (the maps are in `inputs`, so the fingerprint covers them).
    map:
      definition.inputs === undefined
        ? definition.map
        : function map(key: unknown, value: unknown, ctx: MapContext) {
            return maps[ctx.input]!(key, value, ctx);
          },
    __tsmrJob: true as const,
    moduleUrl,
    definitionIndex: siblings.length,
  });
  siblings.push(new WeakRef(job as Job));
  return job as Job<KI, VI, K, V, KO, VO>;
}

/** A job's map function for each of its inputs (one for a job without `inputs`). */
export function inputMaps(
  /* eslint-disable-next-line @typescript-eslint/no-explicit-any -- a definition of any types */
  definition: Pick<JobDefinition<any, any, any, any, any, any>, 'map' | 'inputs'>,
): ((key: unknown, value: unknown, ctx: MapContext) => void | Promise<void>)[] {
  const fallback = definition.map as (key: unknown, value: unknown, ctx: MapContext) => void | Promise<void>;
  if (definition.inputs === undefined) return [fallback];
  return definition.inputs.map((input) => input.map ?? fallback);
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
  if (typeof d.map !== 'function' && !(d.inputs !== undefined && d.map === undefined)) {
    throw new TsmrError(
      ErrorCode.BAD_JOB,
      `${where}: the job has no map function (export default defineJob({ map, reduce }))`,
    );
  }
  if (d.reduce !== undefined && typeof d.reduce !== 'function') {
    throw new TsmrError(ErrorCode.BAD_JOB, `${where}: the job's reduce must be a function`);
  }
  if (d.reduce === undefined && d.reducers !== undefined && d.reducers !== 0) {
    throw new TsmrError(
      ErrorCode.BAD_JOB,
      `${where}: the job has no reduce function but reducers: ${String(d.reducers)}; ` +
        'a job without reduce is map-only (reducers 0): give it a reduce, or leave out reducers',
    );
  }
  if (d.inputs !== undefined) validateInputs(d.inputs, typeof d.map === 'function', where);
  if (
    d.files !== undefined &&
    !(Array.isArray(d.files) && d.files.every((f) => typeof f === 'string' && f !== ''))
  ) {
    throw new TsmrError(
      ErrorCode.BAD_JOB,
      `${where}: the job's files must be an array of paths (each may end in #name), e.g. files: ['data/stop-words.txt']`,
    );
  }
  for (const name of ['combine', 'combineValues'] as const) {
    if (d[name] !== undefined && typeof d[name] !== 'function') {
      throw new TsmrError(ErrorCode.BAD_JOB, `${where}: the job's ${name} must be a function`);
    }
  }
  if (d.partition !== undefined && typeof d.partition !== 'function' && !isTotalOrder(d.partition)) {
    throw new TsmrError(
      ErrorCode.BAD_JOB,
      `${where}: the job's partition must be a function (key, numPartitions) => number or totalOrder()`,
    );
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
  if (d.reducers !== undefined && !(Number.isInteger(d.reducers) && (d.reducers as number) >= 0)) {
    throw new TsmrError(ErrorCode.BAD_JOB, `${where}: reducers must be an integer >= 0 (0: a map-only job)`);
  }
  if (d.groupBy !== undefined && !(Number.isSafeInteger(d.groupBy) && (d.groupBy as number) >= 1)) {
    throw new TsmrError(
      ErrorCode.BAD_JOB,
      `${where}: groupBy must be an integer >= 1 (the number of leading tuple-key elements reduce groups by), got ${String(d.groupBy)}`,
    );
  }
}

/** Checks `inputs`: a non-empty array of `{ paths, map?, inputFormat? }`, each with a map of its own or the job's. */
function validateInputs(inputs: unknown, jobHasMap: boolean, where: string): void {
  const shape = 'inputs must be a non-empty array of { paths, map?, inputFormat? }';
  if (!Array.isArray(inputs) || inputs.length === 0)
    throw new TsmrError(ErrorCode.BAD_JOB, `${where}: ${shape}`);
  for (const [i, input] of inputs.entries()) {
    if (typeof input !== 'object' || input === null) {
      throw new TsmrError(ErrorCode.BAD_JOB, `${where}: inputs[${i}] is not an object: ${shape}`);
    }
    const { paths, map } = input as Record<string, unknown>;
    const pathsOk =
      typeof paths === 'function' ||
      (typeof paths === 'string' && paths !== '') ||
      (Array.isArray(paths) && paths.length > 0 && paths.every((p) => typeof p === 'string' && p !== ''));
    if (!pathsOk) {
      throw new TsmrError(
        ErrorCode.BAD_JOB,
        `${where}: inputs[${i}].paths must be a path, a non-empty array of paths, or a function of the params returning them`,
      );
    }
    if (map !== undefined && typeof map !== 'function') {
      throw new TsmrError(ErrorCode.BAD_JOB, `${where}: inputs[${i}].map must be a function`);
    }
    if (map === undefined && !jobHasMap) {
      throw new TsmrError(
        ErrorCode.BAD_JOB,
        `${where}: inputs[${i}] has no map, and the job has no map for it to use: give inputs[${i}] a map`,
      );
    }
  }
}

function isAsyncFunction(f: unknown): boolean {
  return (
    typeof f === 'function' &&
    (f.constructor.name === 'AsyncFunction' || f.constructor.name === 'AsyncGeneratorFunction')
  );
}

const frameUrl = /(file:\/\/[^\s)]+?):\d+:\d+\)?$/;

/**
 * URL of the first module on the stack that is neither this file nor one of `skip`.
 * @internal
 */
export function callerModuleUrl(...skip: string[]): string | undefined {
  const stack = new Error().stack?.split('\n') ?? [];
  for (const line of stack.slice(1)) {
    const url = frameUrl.exec(line.trim())?.[1];
    if (url !== undefined && url !== import.meta.url && !skip.includes(url)) return url;
  }
  return undefined;
}
