/**
 * Where a job's records come from, before anything is planned: the run's
 * `input` (paths or in-memory records) or the job's own `inputs` (Hadoop's
 * `MultipleInputs`), never both; and the splits of path inputs.
 */
import { usageError } from '../errors.ts';
import { type InputFile, type ResolvedInputs, resolveInputs } from '../io/input-paths.ts';
import { planInputSplits, planSplits, type Split } from '../io/splits.ts';
import type { JobBody } from '../task/job-body.ts';
import type { RunOptions } from './run-options.ts';

/**
 * Checks that the run's options fit the job: `input` given exactly when the
 * job has no `inputs`, no reducers for a job without `reduce`, `verify`
 * only with paths.
 * @throws TsmrError `TSMR_USAGE` saying what to change.
 */
export function checkInputOptions(body: JobBody, options: RunOptions): void {
  if (body.inputs !== undefined && options.input !== undefined) {
    throw usageError(
      'the job names its own inputs (inputs: [{ paths, map }, …]): leave out input (--input); ' +
        'to read other paths, let the inputs take them from params (paths: (params) => …)',
    );
  }
  if (body.inputs === undefined && options.input === undefined) {
    throw usageError('no input: give input paths (--input) or in-memory records');
  }
  if (body.reducer === undefined && (options.reducers ?? 0) !== 0) {
    throw usageError(
      `the job has no reduce function, so it is map-only (R = 0); leave out reducers (--reducers), got ${options.reducers}`,
    );
  }
  if (options.verify && body.inputs === undefined && !isPathInput(options.input)) {
    throw usageError('verify needs path inputs: in-memory input may be readable only once');
  }
}

/** The files of a job's path inputs: one group per job input, or one for the run's paths. */
export interface JobPaths {
  /** The paths as given (the job's inputs' in order), for the report. */
  paths: string[];
  /** Each group's files (resolved in order) and skipped entries. */
  groups: ResolvedInputs[];
  /** Whether the groups are the job's own `inputs` (splits are then tagged with their input). */
  jobInputs: boolean;
  /** Per group: its input format cannot be cut (`'tsmr'`), so each file is one split. */
  whole: boolean[];
}

/**
 * Resolves the paths of the job's `inputs` (their `paths` called with the
 * params) or of the run's `input`; undefined for in-memory input.
 * @throws TsmrError as `resolveInputs` does (`TSMR_INPUT_NOT_FOUND`…).
 */
export async function resolveJobPaths(
  body: JobBody,
  input: RunOptions['input'],
  params: Readonly<Record<string, string | number | boolean | null>>,
): Promise<JobPaths | undefined> {
  const given =
    body.inputs !== undefined
      ? body.inputs.map((i) => i.paths(params))
      : isPathInput(input)
        ? [typeof input === 'string' ? [input] : [...input]]
        : undefined;
  if (given === undefined) return undefined;
  const groups: ResolvedInputs[] = [];
  for (const paths of given) groups.push(await resolveInputs(paths));
  const formats = body.inputs?.map((i) => i.inputFormat) ?? [body.inputFormat];
  const whole = formats.map((f) => f.type === 'tsmr');
  return { paths: given.flat(), groups, jobInputs: body.inputs !== undefined, whole };
}

/** The splits of the job: its inputs planned one by one (tagged), or `files` planned together. */
export function planJobSplits(paths: JobPaths | undefined, files: InputFile[], splitSize: number): Split[] {
  if (paths?.jobInputs) {
    return planInputSplits(
      paths.groups.map((g) => g.files),
      { splitSize, whole: paths.whole },
    );
  }
  return planSplits(files, { splitSize, whole: paths?.whole[0] });
}

/** True for path input: a string or an array of strings. */
export function isPathInput(input: RunOptions['input']): input is string | readonly string[] {
  return typeof input === 'string' || (Array.isArray(input) && input.every((i) => typeof i === 'string'));
}

/**
 * The records of in-memory input: an array or (async) iterable, or `{ records }`.
 * @throws TsmrError `TSMR_USAGE` for anything else.
 */
export function inMemoryRecords(input: RunOptions['input']): Iterable<unknown> | AsyncIterable<unknown> {
  if (typeof input === 'object' && input !== null && 'records' in input) return input.records;
  if (
    typeof input === 'object' &&
    input !== null &&
    (Symbol.iterator in input || Symbol.asyncIterator in input)
  ) {
    return input as Iterable<unknown>;
  }
  throw usageError('input must be paths, an array or (async) iterable of records, or { records }');
}
