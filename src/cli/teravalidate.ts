/**
 * `tsmr teravalidate`: checks a TeraSort output (`src/terasort/teravalidate.ts`).
 */
import type { Command } from 'commander';
import { ErrorCode, TsmrError } from '../errors.ts';
import { formatCount, formatDuration } from '../observe/units.ts';
import { formatChecksum } from '../terasort/record-checksum.ts';
import { teraValidate, type TeraValidateReport } from '../terasort/teravalidate.ts';
import { parsePositive } from './options.ts';
import { interruptOnSignals } from './signals.ts';

interface TeraValidateFlags {
  input?: string[];
  workers?: number;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('teravalidate')
    .summary('check that a TeraSort output is sorted and holds the input’s records')
    .description(
      'Read the part-* files of <dir> in name order as 100-byte records and check that their 10-byte\n' +
        'keys ascend across all files (equal keys are allowed and counted as duplicates). Prints the\n' +
        'record count and checksum (sum of the CRC-32 of every record: the same for the same records in\n' +
        'any order, as valsort and Hadoop’s TeraValidate compute it). With --input, the input is read\n' +
        'too and its count and checksum must match. Exits 1 when the output is out of order or differs.',
    )
    .argument('<dir>', 'the output directory of a TeraSort job')
    .option('-i, --input <paths...>', 'the unsorted input (files or directories) to compare with')
    .option('-w, --workers <n>', 'worker threads (default: all cores)', parsePositive)
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      '\nExample:\n  tsmr teravalidate tera/out --input tera/in\n' +
        '\nExit codes: 0 valid, 1 out of order or not the input’s records, 2 bad usage or unreadable files.',
    )
    .action(async (dir: string, flags: TeraValidateFlags) => {
      const abort = new AbortController();
      const stop = interruptOnSignals(abort);
      const start = performance.now();
      try {
        const report = await teraValidate({ output: dir, ...flags, signal: abort.signal });
        const ms = performance.now() - start;
        if (flags.json) {
          process.stdout.write(`${JSON.stringify(toJson(report, ms), null, 2)}\n`);
        } else {
          process.stdout.write(formatValidation(report, ms));
        }
        if (!report.ok) {
          throw new TsmrError(
            ErrorCode.INVALID_OUTPUT,
            report.unordered > 0
              ? `teravalidate: ${dir} is not sorted: ${report.firstUnordered}`
              : `teravalidate: ${dir} does not hold the input's records (count or checksum differ)`,
          );
        }
      } finally {
        stop();
      }
    });
}

function toJson(r: TeraValidateReport, ms: number): object {
  const input = r.input && { ...r.input, checksum: formatChecksum(r.input.checksum) };
  return { ...r, checksum: formatChecksum(r.checksum), input, ms };
}

function formatValidation(r: TeraValidateReport, ms: number): string {
  const lines = [`tsmr: teravalidate ${r.ok ? 'ok' : 'FAILED'} in ${formatDuration(ms)}`];
  lines.push(`  records     ${formatCount(r.records)} in ${formatCount(r.files)} files`);
  lines.push(`  checksum    ${formatChecksum(r.checksum)}`);
  lines.push(`  duplicates  ${formatCount(r.duplicates)}`);
  lines.push(
    `  order       ${r.unordered === 0 ? 'ascending' : `${formatCount(r.unordered)} records out of order; first: ${r.firstUnordered}`}`,
  );
  if (r.input) {
    const same = r.input.records === r.records && r.input.checksum === r.checksum;
    lines.push(
      `  input       ${formatCount(r.input.records)} records, checksum ${formatChecksum(r.input.checksum)}: ${same ? 'same' : 'DIFFERENT'}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
