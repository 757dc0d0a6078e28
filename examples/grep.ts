/**
 * Grep: every input line that matches a regular expression, with where it is.
 *
 * Parameters (`--param name=value`, or `params` of `runJob`):
 * - `pattern` (required): a JavaScript regular expression, matched against each
 *   line (without its `\n` / `\r\n`). Lines are read as `latin1`, one character
 *   per byte, as `LC_ALL=C grep` sees them: an ASCII pattern means what it says,
 *   `.` matches one byte.
 * - `flags` (optional, default none): regex flags, e.g. `i` to ignore case.
 *
 * Output (one `part-r-00000`, since the job asks for one reduce task):
 * `file:offset\tline`, where `file` is the input path relative to the working
 * directory and `offset` the byte offset of the line in its file, sorted by file
 * (by its bytes), then by offset. Counter `grep/matches` counts matching lines.
 *
 *   npx tsmr run examples/grep.ts --input .data/corpus/spam --output out/grep --overwrite \
 *     --param pattern='^Subject:.*\bmoney\b' --param flags=i
 */
import { relative } from 'node:path';
import { defineJob } from '../src/index.ts';

/** The pattern of the current job, compiled once per worker thread: `[flags/source, regex]`. */
let compiled: [cacheKey: string, regex: RegExp] | undefined;

function patternOf(params: Readonly<Record<string, unknown>>): RegExp {
  const { pattern, flags = '' } = params;
  if (typeof pattern !== 'string' || pattern === '') {
    throw new Error('grep needs a pattern: --param pattern=<regex>');
  }
  if (typeof flags !== 'string') throw new Error('grep: --param flags must be a string such as "i"');
  const cacheKey = `${flags}/${pattern}`;
  if (compiled?.[0] !== cacheKey) {
    // Without the `g` and `y` flags, `test` keeps no state from one line to the next.
    compiled = [cacheKey, new RegExp(pattern, flags.replace(/[gy]/g, ''))];
  }
  return compiled[1];
}

export default defineJob<number, string, [file: string, offset: number], string, string, string>({
  name: 'grep',
  inputFormat: { type: 'text', encoding: 'latin1' },
  outputFormat: { type: 'text', encoding: 'latin1' },
  reducers: 1,

  map(offset, line, ctx) {
    if (!patternOf(ctx.params).test(line)) return;
    ctx.counter('grep', 'matches').increment();
    ctx.emit([relative(process.cwd(), ctx.inputFile), offset], line);
  },

  reduce([file, offset], lines, ctx) {
    for (const line of lines) ctx.emit(`${file}:${offset}`, line);
  },
});
