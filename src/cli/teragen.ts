/**
 * `tsmr teragen`: writes Sort Benchmark records for TeraSort (`src/terasort/teragen.ts`).
 */
import type { Command } from 'commander';
import { formatBytes, formatCount, formatDuration } from '../observe/units.ts';
import { formatChecksum } from '../terasort/record-checksum.ts';
import { teraGen } from '../terasort/teragen.ts';
import { parseCount, parsePositive } from './options.ts';
import { interruptOnSignals } from './signals.ts';

interface TeraGenFlags {
  files?: number;
  workers?: number;
  seed?: number;
  overwrite?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('teragen')
    .summary('write 100-byte Sort Benchmark records (gensort -a) for TeraSort')
    .description(
      'Write <records> 100-byte records into <dir>/part-m-NNNNN, in parallel: the ASCII records of the\n' +
        "Sort Benchmark's gensort -a (10-byte printable key, 2 spaces, the record number in 32 hex digits,\n" +
        '2 spaces, 52 bytes of filler, \\r\\n). With seed 0 the files concatenated are byte for byte\n' +
        '`gensort -a <records>`; another seed starts the same generator 2^64·seed records later.\n' +
        'Prints the records and their checksum (sum of CRC-32s, as valsort and TeraValidate).',
    )
    .argument('<records>', 'number of records (each 100 bytes)', parseCount)
    .argument('<dir>', 'output directory (must not exist or be empty, unless --overwrite)')
    .option('--files <n>', 'files to write (default: --workers)', parsePositive)
    .option('-w, --workers <n>', 'worker threads (default: all cores)', parsePositive)
    .option('--seed <n>', 'generator stream; 0 = gensort -a (default 0)', parseCount)
    .option('--overwrite', 'replace <dir> if it exists')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      '\nExample (10 M records = 1 GB):\n' +
        '  tsmr teragen 10000000 tera/in\n' +
        '  tsmr run examples/terasort.ts --input tera/in --output tera/out\n' +
        '  tsmr teravalidate tera/out --input tera/in\n' +
        '\nExit codes: 0 success, 2 bad usage, 1 failure (e.g. a write error).',
    )
    .action(async (records: number, dir: string, flags: TeraGenFlags) => {
      const abort = new AbortController();
      const stop = interruptOnSignals(abort);
      const start = performance.now();
      try {
        const result = await teraGen({ records, dir, ...flags, signal: abort.signal });
        const ms = performance.now() - start;
        const checksum = formatChecksum(result.checksum);
        if (flags.json) {
          const json = { records: result.records, bytes: result.bytes, files: result.files, checksum, ms };
          process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
        } else {
          process.stdout.write(
            `tsmr: teragen wrote ${formatCount(result.records)} records (${formatBytes(result.bytes)}) ` +
              `in ${result.files.length} files of ${dir} in ${formatDuration(ms)}\n  checksum  ${checksum}\n`,
          );
        }
      } finally {
        stop();
      }
    });
}
