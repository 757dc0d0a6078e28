import type { MapContext, TaskContext } from '../api/types.ts';
import { ErrorCode, TsmrError } from '../errors.ts';
import type { NormalizedInputFormat } from '../io/record-reader.ts';
import { CounterSet } from './counters.ts';
import type { SideFile, TaskMessage } from './messages.ts';

/** What every attempt keeps about itself: its context, counters and last status. */
export interface AttemptState {
  /** The {@link TaskContext} every user function of the attempt sees. */
  ctx: TaskContext;
  counters: CounterSet;
  /** The last text given to `ctx.setStatus`, if any. */
  status(): string | undefined;
}

/**
 * Where a context keeps its attempt's side files, for streaming commands
 * (they get them linked, `streaming-process.ts`): a symbol, so that the
 * copies of a context (`{ ...ctx, emit }` for a combiner) keep them too.
 */
const SIDE_FILES = Symbol('tsmr.sideFiles');

/** The side files of the attempt whose context is `ctx` (`ctx.file(name)` finds each by name). */
export function sideFilesOf(ctx: TaskContext): readonly SideFile[] {
  return (ctx as { [SIDE_FILES]?: readonly SideFile[] })[SIDE_FILES] ?? [];
}

/** Creates the context, counters and status of one attempt (or of the input sampler, `input-sampler.ts`). */
export function createAttemptState(
  msg: Pick<TaskMessage, 'jobId' | 'taskId' | 'attempt' | 'params' | 'numReducers' | 'files'>,
): AttemptState {
  const counters = new CounterSet();
  let status: string | undefined;
  const ctx: TaskContext & { [SIDE_FILES]?: readonly SideFile[] } = {
    [SIDE_FILES]: msg.files,
    jobId: msg.jobId,
    taskId: msg.taskId,
    attempt: msg.attempt,
    params: Object.freeze({ ...msg.params }),
    numReducers: msg.numReducers,
    counter: (group, name) => counters.counter(group, name),
    file: (name) => sideFilePath(msg, name),
    setStatus: (text) => {
      status = text;
    },
  };
  return { ctx, counters, status: () => status };
}

/**
 * The path of side file `name` of the attempt's job.
 * @throws TsmrError `TSMR_BAD_JOB` (not retried) when the job shipped no file of that name.
 */
function sideFilePath(msg: Pick<TaskMessage, 'files'>, name: string): string {
  const file = msg.files?.find((f) => f.name === name);
  if (file !== undefined) return file.path;
  const shipped = msg.files?.map((f) => f.name).join(', ');
  throw new TsmrError(
    ErrorCode.BAD_JOB,
    `ctx.file(${JSON.stringify(name)}): the job shipped no file named ${JSON.stringify(name)} ` +
      `(${shipped ? `it ships ${shipped}` : 'it ships none'}); ship it with files: ['path/${name}'] in the job ` +
      `or tsmr run --file path/${name} (path#${name} to name another file so)`,
    { details: { sideFile: name } },
  );
}

/**
 * Sets a map context's `inputFile` (read-only to the job) as the file at
 * `path` starts: its path, or `''` for in-memory input (`records` format,
 * spooled by tsmr, whose files are not the user's).
 */
export function setInputFile(ctx: MapContext, format: NormalizedInputFormat, path: string): void {
  (ctx as { inputFile: string }).inputFile = format.type === 'records' ? '' : path;
}
