/**
 * The ids that cluster messages and shuffle URLs carry, in the exact forms
 * tsmr makes them, so that an id is either one canonical string or refused
 * (no `m-3_1` beside `m-00003_1`, no `..`): the RPC conversions (`wire-*.ts`)
 * and the shuffle (`shuffle-protocol.ts`, which also builds local file names
 * from these ids) check the same rules.
 */
import { attemptIdOf, parseAttemptId, taskIdOf } from '../../engine/scheduler-types.ts';
import type { TaskKind } from '../../engine/scheduler-types.ts';

/** Job ids as `runJob` makes them: `job-<yyyymmdd>-<hhmmss>-<6 hex digits>`. */
const JOB_ID = /^job-\d{8}-\d{6}-[0-9a-f]{6}$/;
const TASK_ID = /^([mr])-(\d{5,9})$/;

/** True for a job id of the form `job-20261201-121943-a1b2c3`. */
export function isJobId(id: string): boolean {
  return JOB_ID.test(id);
}

/**
 * True for a task id as `taskIdOf` makes it (`m-00003`, `r-123456`; not
 * `m-3` or `m-000003`), of `kind` when given.
 */
export function isTaskId(id: string, kind?: TaskKind): boolean {
  const m = TASK_ID.exec(id);
  if (!m) return false;
  const k: TaskKind = m[1] === 'm' ? 'map' : 'reduce';
  return (kind === undefined || k === kind) && taskIdOf(k, Number(m[2])) === id;
}

/**
 * True for an attempt id as `attemptIdOf` makes it (`m-00003_1`; not
 * `m-3_1`, `m-00003_01` or `m-00003`), of `kind` when given.
 */
export function isAttemptId(id: string, kind?: TaskKind): boolean {
  const parsed = parseAttemptId(id);
  return (
    parsed !== undefined &&
    (kind === undefined || parsed.kind === kind) &&
    isTaskId(parsed.taskId) &&
    attemptIdOf(parsed.taskId, parsed.attempt) === id
  );
}
