/**
 * How a running command stops: the first SIGINT or SIGTERM (Ctrl-C, `kill`,
 * a supervisor) cancels the job cleanly (attempts killed, nothing committed,
 * scratch deleted, exit 130); a second one exits at once (exit 130; the job's
 * scratch directories are still removed on the way out, `src/runtime/exit-guard.ts`).
 *
 * The parent process ending is treated as a SIGTERM: a `tsmr` started by a
 * shell script, `npx` or a test harness that was killed (even with SIGKILL,
 * which it cannot forward) must not run on as an orphan. The parent is
 * checked once a second (`process.ppid` changes when the process is
 * re-parented); the check does not keep the process alive.
 */
import { ExitCode } from '../errors.ts';

const PARENT_CHECK_MS = 1000;

/**
 * Aborts `controller` on the first signal or when the parent process ends;
 * exits on the second signal. Returns a function that stops watching.
 * @param opts.action what the first signal does, for its message (default
 *   `cancelling the job`).
 * @param opts.watchParent also abort when the parent process ends (default
 *   true); off for a daemon that is started in the background on purpose
 *   (`tsmr worker` under `tsmr cluster start`).
 */
export function interruptOnSignals(
  controller: AbortController,
  opts: { action?: string; watchParent?: boolean } = {},
): () => void {
  const action = opts.action ?? 'cancelling the job';
  const parent = process.ppid;
  let received = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (++received > 1) {
      process.stderr.write(`tsmr: ${signal} again: stopping now\n`);
      process.exit(ExitCode.INTERRUPTED);
    }
    process.stderr.write(`tsmr: ${signal}: ${action} (press Ctrl-C again to stop at once)\n`);
    controller.abort(new Error(`received ${signal}`));
  };
  const watch =
    opts.watchParent === false
      ? undefined
      : setInterval(() => {
          if (process.ppid === parent || controller.signal.aborted) return;
          process.stderr.write(`tsmr: the parent process (pid ${parent}) has ended: ${action}\n`);
          controller.abort(new Error('the parent process ended'));
        }, PARENT_CHECK_MS).unref();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    clearInterval(watch);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}
