/**
 * `tsmr report <_job.json> [--html <file>]`: a finished job's report again,
 * printed as `tsmr run` printed it, or written as one self-contained HTML
 * page (the dashboard's job page, with the timeline, counters and failures;
 * no network, no other file: Spark's History Server for one job).
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { JobReport } from '../engine/job-report.ts';
import { workerReports } from '../engine/worker-report.ts';
import { usageError } from '../errors.ts';
import { dashboardAssets } from '../observe/dashboard/assets.ts';
import { reportPage } from '../observe/dashboard/page.ts';
import { reportState } from '../observe/dashboard/report-state.ts';
import { formatBytes, formatReport } from '../observe/report.ts';

export function register(program: Command): void {
  program
    .command('report')
    .summary('print a finished job’s report again, or write it as an HTML page')
    .description(
      'Print the report of a finished job from its _job.json, as tsmr run printed it; with --html, write\n' +
        'one self-contained HTML page instead (timeline of every attempt, counters, failures, settings),\n' +
        'readable offline.',
    )
    .argument('<job.json>', 'the job’s report, <output>/_job.json')
    .option('--html <file>', 'write the report as a self-contained HTML page to <file>')
    .option('--json', 'print the report as JSON on stdout')
    .addHelpText('after', '\nExample:\n  tsmr report out/wc/_job.json --html out/wc/report.html\n')
    .action(async (path: string, flags: { html?: string; json?: boolean }) => {
      const report = await readJobReport(path);
      if (flags.html !== undefined) {
        const html = reportPage(
          `tsmr report: ${report.name} (${report.jobId})`,
          reportState(report),
          await dashboardAssets(),
        );
        const tmp = `${flags.html}.${process.pid}.tmp`;
        await writeFile(tmp, html);
        await rename(tmp, flags.html);
        process.stderr.write(`tsmr: wrote ${flags.html} (${formatBytes(Buffer.byteLength(html))})\n`);
      } else if (flags.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else process.stdout.write(formatReport(report));
    });
}

/**
 * Reads a `_job.json`. A report written before reports had a per-worker
 * section gets one computed from its attempts.
 * @throws TsmrError `TSMR_USAGE` when the file cannot be read or is not a job report.
 */
export async function readJobReport(path: string): Promise<JobReport> {
  let report: Partial<JobReport>;
  try {
    report = JSON.parse(await readFile(path, 'utf8')) as Partial<JobReport>;
  } catch (error) {
    throw usageError(`cannot read the job report ${path}: ${(error as Error).message}`, { path });
  }
  const fields = [
    'jobId',
    'name',
    'status',
    'settings',
    'phases',
    'attempts',
    'counters',
    'validation',
  ] as const;
  const missing = fields.filter((f) => report?.[f] === undefined);
  if (typeof report !== 'object' || report === null || missing.length > 0) {
    throw usageError(`${path} is not a tsmr job report (_job.json): it has no ${missing.join(', ')}`, {
      path,
    });
  }
  const complete = report as JobReport;
  complete.workers ??= workerReports([], complete.attempts, complete.finishedAt);
  return complete;
}
