/**
 * The checks that `wire-*.ts` apply to every received message ("schema-checked
 * where received"): each reads one field, named by its path in the message
 * (`TaskLease.map.header.task_id`), and throws `TSMR_BAD_MESSAGE` with that
 * path and what was wrong. The RPC layer answers such an error with
 * `INVALID_ARGUMENT` (`rpc-router.ts`).
 *
 * Bounds are generous for real jobs and small enough that one message cannot
 * make a receiver hold much more than its size limit (`rpc-limits.ts`).
 */
import path from 'node:path';
import { parseAttemptId } from '../../engine/scheduler-types.ts';
import type { TaskKind } from '../../engine/scheduler-types.ts';
import { ErrorCode, TsmrError } from '../../errors.ts';
import { SHA256_HEX } from './bundle-digest.ts';
import { isAttemptId, isJobId, isTaskId } from './ids.ts';

/** Bounds of received fields. Lengths are characters, counts are list entries. */
export const wireLimits = {
  /** Names: job ids, worker ids, export names, parameter names. */
  name: 128,
  /** Absolute paths (inputs, output directory). */
  path: 4096,
  /** URLs (shuffle servers). */
  url: 2048,
  /** Error messages and stacks, error details (JSON), streaming commands. */
  text: 64 * 1024,
  /** Status lines, reasons. */
  short: 4096,
  /** Entries of `params`. */
  params: 1000,
  /** Entries of a counter map; counter names are at most `short` characters. */
  counters: 10_000,
  /** Parts of one split. */
  splitParts: 100_000,
  /** Reduce tasks R (partitions of a map output). */
  reducers: 100_000,
  /** Map outputs one reduce attempt reads (with ~150 bytes each, 200 000 fill a 32 MiB lease). */
  sources: 200_000,
  /** Output files of one reduce attempt. */
  outputFiles: 1000,
  /** Causes below an error (`serializeError` keeps 8). */
  causeDepth: 8,
} as const;

/** A worker id, export name, parameter name: safe in a file name and a URL path. */
export const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** A plain file name (no directory, not `.` or `..`). */
export const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;

/** The error for a field that breaks its rule. */
export function badMessage(field: string, problem: string): TsmrError {
  return new TsmrError(ErrorCode.BAD_MESSAGE, `bad RPC message: ${field} ${problem}`, { details: { field } });
}

/** Shows a received value in an error message, shortened. */
function show(v: unknown): string {
  const s = typeof v === 'string' ? JSON.stringify(v) : String(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** A string of at most `max` characters, at least one unless `empty`, matching `pattern` if given. */
export function str(
  v: string,
  field: string,
  opts: { max: number; pattern?: RegExp; empty?: boolean },
): string {
  if (v.length > opts.max) throw badMessage(field, `is longer than ${opts.max} characters`);
  if (v.length === 0 && !opts.empty) throw badMessage(field, 'is required');
  if (opts.pattern && !(v.length === 0 && opts.empty) && !opts.pattern.test(v)) {
    throw badMessage(field, `must match ${opts.pattern}, got ${show(v)}`);
  }
  return v;
}

/** An optional string (proto3 `optional`): undefined stays undefined. */
export function optStr(
  v: string | undefined,
  field: string,
  opts: { max: number; pattern?: RegExp; empty?: boolean },
): string | undefined {
  return v === undefined ? undefined : str(v, field, opts);
}

/** An absolute path. */
export function absPath(v: string, field: string): string {
  str(v, field, { max: wireLimits.path });
  if (!path.isAbsolute(v) || v.includes('\0'))
    throw badMessage(field, `must be an absolute path, got ${show(v)}`);
  return v;
}

/** `v`, at most `max` characters, if `valid(v)`; else refused as not `what`. */
function checkedId(
  v: string,
  field: string,
  max: number,
  valid: (v: string) => boolean,
  what: string,
): string {
  str(v, field, { max });
  if (!valid(v)) throw badMessage(field, `must be ${what}, got ${show(v)}`);
  return v;
}

/** A job id, `job-20250101-120000-3fa9c1` (`ids.ts`). */
export function jobIdStr(v: string, field: string): string {
  return checkedId(v, field, wireLimits.name, isJobId, 'a job id like job-20250101-120000-3fa9c1');
}

/** A task id, `m-00003` / `r-00001`, of `kind` when given (`ids.ts`). */
export function taskIdStr(v: string, field: string, kind?: TaskKind): string {
  const what = `a ${kind === undefined ? '' : `${kind} `}task id like ${kind === 'reduce' ? 'r' : 'm'}-00003`;
  return checkedId(v, field, 16, (id) => isTaskId(id, kind), what);
}

/** An attempt id, `m-00003_1`, of `kind` when given (`ids.ts`). */
export function attemptIdStr(v: string, field: string, kind?: TaskKind): string {
  const what = `a ${kind === undefined ? '' : `${kind} `}attempt id like ${kind === 'reduce' ? 'r' : 'm'}-00003_1`;
  return checkedId(v, field, 32, (id) => isAttemptId(id, kind), what);
}

/**
 * The `map_task_id` and `map_attempt_id` fields of `m` (under `field`): a map
 * task id and an attempt id of that task (`m-00003`, `m-00003_1`).
 */
export function mapAttemptOf(
  m: { mapTaskId: string; mapAttemptId: string },
  field: string,
): { mapTaskId: string; mapAttemptId: string } {
  const mapTaskId = taskIdStr(m.mapTaskId, `${field}.map_task_id`, 'map');
  const mapAttemptId = attemptIdStr(m.mapAttemptId, `${field}.map_attempt_id`, 'map');
  if (parseAttemptId(mapAttemptId)?.taskId !== mapTaskId) {
    throw badMessage(
      `${field}.map_attempt_id`,
      `must be an attempt of map task ${mapTaskId}, got ${mapAttemptId}`,
    );
  }
  return { mapTaskId, mapAttemptId };
}

/** A worker id: a name (`NAME`). */
export function workerIdStr(v: string, field: string): string {
  return str(v, field, { max: wireLimits.name, pattern: NAME });
}

/** A SHA-256, 64 lowercase hex digits (`bundle-digest.ts`). */
export function sha256Str(v: string, field: string): string {
  return str(v, field, { max: 64, pattern: SHA256_HEX });
}

/** An `http:` or `https:` URL. */
export function httpUrl(v: string, field: string): string {
  str(v, field, { max: wireLimits.url });
  let url: URL | undefined;
  try {
    url = new URL(v);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw badMessage(field, `must be an http(s) URL, got ${show(v)}`);
  }
  return v;
}

/** A 64-bit field as a JS number: an integer in `[min, Number.MAX_SAFE_INTEGER]` (default min 0). */
export function num64(v: bigint, field: string, min = 0): number {
  if (v < BigInt(min) || v > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw badMessage(field, `must be an integer in [${min}, 2^53 - 1], got ${v}`);
  }
  return Number(v);
}

/** An optional 64-bit field (proto3 `optional`): undefined stays undefined, else {@link num64}. */
export function optNum64(v: bigint | undefined, field: string, min = 0): number | undefined {
  return v === undefined ? undefined : num64(v, field, min);
}

/** A signed 64-bit field (counters) as a JS number, within ±(2^53 - 1). */
export function int64(v: bigint, field: string): number {
  return num64(v, field, -Number.MAX_SAFE_INTEGER);
}

/** A 32-bit field within `[min, max]`. */
export function int(v: number, field: string, min: number, max: number): number {
  if (!Number.isInteger(v) || v < min || v > max)
    throw badMessage(field, `must be in [${min}, ${max}], got ${v}`);
  return v;
}

/** A double in `[min, max]` (so never NaN). */
export function real(v: number, field: string, min: number, max: number): number {
  if (!(v >= min && v <= max)) throw badMessage(field, `must be in [${min}, ${max}], got ${v}`);
  return v;
}

/** A message field that must be set. */
export function required<T>(v: T | undefined, field: string): T {
  if (v === undefined) throw badMessage(field, 'is required');
  return v;
}

/** A list of at most `max` entries. */
export function list<T>(v: readonly T[], field: string, max: number): readonly T[] {
  if (v.length > max) throw badMessage(field, `has ${v.length} entries, more than ${max}`);
  return v;
}

/** A oneof with no case set. */
export function noCase(field: string): TsmrError {
  return badMessage(field, 'has none of its cases set');
}

/** A 64-bit field to send: `n` must be a safe non-negative (or, for counters, any safe) integer. */
export function big(n: number, field: string, signed = false): bigint {
  if (!Number.isSafeInteger(n) || (!signed && n < 0)) {
    throw new TsmrError(
      ErrorCode.INTERNAL,
      `cannot send ${field} = ${n}: not a safe ${signed ? '' : 'non-negative '}integer`,
    );
  }
  return BigInt(n);
}

/** An optional 64-bit field to send: undefined stays undefined, else {@link big}. */
export function optBig(n: number | undefined, field: string): bigint | undefined {
  return n === undefined ? undefined : big(n, field);
}

/** The ids of a list (under `field`, named by `idField`) must be unique. */
export function unique<T>(
  items: readonly T[],
  id: (item: T) => string,
  field: string,
  idField: string,
): void {
  const seen = new Set<string>();
  items.forEach((item, i) => {
    const key = id(item);
    if (seen.has(key)) throw badMessage(`${field}[${i}].${idField}`, `repeats ${show(key)}`);
    seen.add(key);
  });
}

/**
 * Names ↔ values of a protobuf enum, e.g. `{ queued: JobState.QUEUED, … }`.
 * `fromWire` refuses `UNSPECIFIED` and values the table lacks.
 */
export function enumCodec<N extends string>(pairs: Record<N, number>) {
  const names = new Map<number, N>(Object.entries<number>(pairs).map(([k, v]) => [v, k as N]));
  return {
    toWire: (name: N): number => pairs[name],
    fromWire(value: number, field: string): N {
      const name = names.get(value);
      if (name === undefined)
        throw badMessage(field, `must be one of ${[...names.values()].join(', ')}, got ${value}`);
      return name;
    },
  };
}
