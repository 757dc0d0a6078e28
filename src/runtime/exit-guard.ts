/**
 * What happens when the process exits while jobs still run in it: user code
 * calling `process.exit()` in an in-process attempt (`workers: 0`), an
 * uncaught exception, or a forced exit on a second Ctrl-C.
 *
 * The exit then removes the scratch directories of the running jobs
 * synchronously (an `exit` listener cannot wait), and an exit with code 0 is
 * turned into code 1 with a message on stderr: a job that did not finish must
 * never look like a success to a shell or a scheduler. (In a worker thread,
 * `process.exit()` ends only that thread; the attempt then fails and is
 * retried like any other.)
 */
import { rmSync } from 'node:fs';

/** Scratch directories of the jobs running in this process, by job id. */
const running = new Map<string, string>();

function onExit(code: number): void {
  for (const dir of running.values()) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // Left for the next job's clean-up of abandoned scratch directories.
    }
  }
  if (code === 0) {
    process.exitCode = 1;
    process.stderr.write(
      `tsmr: the process exited while job ${[...running.keys()].join(', ')} was running ` +
        '(process.exit() called by job code?); the job did not finish\n',
    );
  }
}

/**
 * Guards a running job until the returned function is called (call it when
 * the job has ended, whatever its outcome).
 */
export function guardRunningJob(jobId: string, scratchDir: string): () => void {
  if (running.size === 0) process.on('exit', onExit);
  running.set(jobId, scratchDir);
  return () => {
    if (!running.delete(jobId)) return;
    if (running.size === 0) process.off('exit', onExit);
  };
}
