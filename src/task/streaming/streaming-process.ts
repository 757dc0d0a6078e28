/**
 * One run of a streaming command (`sh -c <command>`): bytes in on stdin with
 * backpressure, bytes out of stdout in order, the reporter protocol on stderr,
 * and the exit status turned into a clear error.
 *
 * Flow control, both ways, with bounded memory:
 * - stdin: {@link StreamingProcess.write} copies into a batch of
 *   {@link STDIN_BATCH_BYTES}; a full batch goes to the pipe, and when the pipe
 *   is full the returned promise settles only once it drained.
 * - stdout: read in paused mode, and only while the caller awaits this object
 *   (a write that waits for drain, or {@link StreamingProcess.finish}). Between
 *   calls nothing is read, so the pipe fills and the command blocks on its own
 *   writes, and the caller never sees output at a moment it does not expect it
 *   (a map task may be spilling). While waiting for stdin to drain, stdout is
 *   read, so a command that writes before it reads never deadlocks.
 */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { copyFileSync, lstatSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, normalize, resolve, sep } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { isMainThread } from 'node:worker_threads';
import { ErrorCode, TsmrError } from '../../errors.ts';
import { type ReporterTarget, StderrReporter } from './stderr-reporter.ts';

/** Bytes collected before they are written to the command's stdin. */
export const STDIN_BATCH_BYTES = 64 * 1024;
/** Files named in a command up to this size are copied into its scratch directory. */
export const SHIP_FILE_MAX_BYTES = 8 * 1024 * 1024;
/** After a failed exit, how long to wait for the rest of stderr (held open by a grandchild, say). */
const STDERR_GRACE_MS = 2000;

export type StreamingRole = 'map' | 'combine' | 'reduce';

export interface StreamingProcessOptions {
  /** A shell command line, run by `/bin/sh -c`. */
  command: string;
  role: StreamingRole;
  /** Extra environment variables (`TSMR_*`), added to this process's environment. */
  env: Record<string, string>;
  /**
   * Receives stdout, in order, only during {@link StreamingProcess.write} or
   * {@link StreamingProcess.finish}. If it throws, the process is killed and
   * the error is rethrown to the caller.
   */
  onStdout(chunk: Buffer): void;
  /** Receives counters and status lines from stderr (at any time). */
  reporter: ReporterTarget;
  /** For error messages. */
  taskId: string;
  attempt: number;
  /**
   * When a write must wait for stdin to drain, return anyway once this many
   * output bytes were passed to `onStdout` during the wait (the input stays
   * queued), so that the caller can make room (a map task spills). Default:
   * no limit.
   */
  emitBudgetBytes?: number;
  /** Directory that relative file names in the command refer to (default: `process.cwd()`). */
  baseDir?: string;
  /**
   * The job's side files (`--file`): each is linked into the command's
   * working directory under its name, as Hadoop Streaming's `-files` puts
   * them in the task's directory, so `--mapper ./map.sh --file dir/map.sh`
   * runs the shipped script.
   */
  sideFiles?: readonly { name: string; path: string }[];
}

type Child = ChildProcessByStdio<Writable, Readable, Readable>;
/** A `Buffer` method Node has always had but does not declare. */
type Latin1Writer = Buffer & { latin1Write(text: string, offset: number, length: number): number };

/**
 * Scratch directories live under one directory per tsmr process. An attempt
 * removes its own; an attempt whose worker thread is terminated (killed, or
 * the job failed elsewhere) cannot, so the main thread, which loads this
 * module too when it resolves a streaming job, removes the whole directory
 * when the process exits.
 */
export const SCRATCH_ROOT = join(tmpdir(), `tsmr-streaming-${process.pid}`);

const live = new Set<StreamingProcess>();
let exitHookInstalled = false;

/** Processes still running when this thread or process exits are killed and their scratch dirs removed. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const p of live) p.destroy();
    if (isMainThread) rmSync(SCRATCH_ROOT, { recursive: true, force: true });
  });
}
if (isMainThread) installExitHook();

export class StreamingProcess {
  readonly scratchDir: string;
  private readonly opts: StreamingProcessOptions;
  private readonly child: Child | undefined;
  private readonly stderr: StderrReporter;
  private batch = Buffer.allocUnsafe(STDIN_BATCH_BYTES);
  private batchPos = 0;
  /** Full batches not yet handed to stdin (it needs to drain first). */
  private queue: Buffer[] = [];
  /** Output bytes that may still be passed on before a budgeted wait returns. */
  private budgetLeft = Number.POSITIVE_INFINITY;
  /** A write returned false and 'drain' has not come yet. */
  private needDrain = false;
  /** stdin can take no more (closed, errored, or ended by us). */
  private stdinDone = false;
  private stdoutEnded = false;
  private stderrEnded = false;
  private graceOver = false;
  private exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private spawnError: Error | undefined;
  private outputError: unknown;
  /** > 0 while a caller awaits: stdout may be read. */
  private reading = 0;
  private waiters: (() => void)[] = [];
  private destroyed = false;

  /**
   * Starts the command in a new scratch directory (under {@link SCRATCH_ROOT}),
   * removed again by {@link finish} or {@link destroy}. A spawn failure is
   * reported by the first {@link write} or by {@link finish}.
   */
  constructor(opts: StreamingProcessOptions) {
    this.opts = opts;
    this.stderr = new StderrReporter(opts.reporter);
    mkdirSync(SCRATCH_ROOT, { recursive: true });
    this.scratchDir = mkdtempSync(join(SCRATCH_ROOT, `${opts.role}-`));
    installExitHook();
    live.add(this);
    let child: Child;
    try {
      for (const f of opts.sideFiles ?? []) symlinkSync(f.path, join(this.scratchDir, f.name));
      shipFiles(opts.command, opts.baseDir ?? process.cwd(), this.scratchDir);
      child = spawn('/bin/sh', ['-c', opts.command], {
        cwd: this.scratchDir,
        env: { ...process.env, ...opts.env },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
    } catch (error) {
      this.spawnError = error as Error;
      this.stdinDone = this.stdoutEnded = this.stderrEnded = true;
      return;
    }
    this.child = child;
    child.on('error', (error) => {
      // Spawn failures (and failed kills, which we ignore once it ran).
      if (this.exit === undefined) {
        this.spawnError = error;
        this.stdinDone = this.stdoutEnded = this.stderrEnded = true;
      }
      this.notify();
    });
    child.on('exit', (code, signal) => {
      this.exit = { code, signal };
      if (this.failedExit())
        setTimeout(() => ((this.graceOver = true), this.notify()), STDERR_GRACE_MS).unref();
      this.notify();
    });
    child.stdin.on('drain', () => {
      this.needDrain = false;
      this.sendQueued();
      this.notify();
    });
    const stdinGone = (): void => {
      this.stdinDone = true;
      this.queue.length = 0;
      this.notify();
    };
    // EPIPE: the command exited or closed stdin without reading it all, which is allowed.
    child.stdin.on('error', stdinGone);
    child.stdin.on('close', stdinGone);
    child.stdout.on('readable', () => {
      this.pump();
      this.notify();
    });
    child.stdout.on('end', () => {
      this.stdoutEnded = true;
      this.notify();
    });
    child.stdout.on('error', (error) => {
      this.outputError ??= new TsmrError(
        ErrorCode.STREAMING_COMMAND,
        `cannot read the output of ${this.describe()}: ${error.message}`,
        { cause: error, details: this.details() },
      );
      this.stdoutEnded = true;
      this.notify();
    });
    child.stderr.on('data', (chunk: Buffer) => this.stderr.push(chunk));
    const stderrGone = (): void => {
      if (this.stderrEnded) return;
      this.stderrEnded = true;
      this.stderr.end();
      this.notify();
    };
    child.stderr.on('end', stderrGone);
    child.stderr.on('error', stderrGone);
    child.stderr.on('close', stderrGone);
  }

  /**
   * Queues bytes for stdin. Returns a promise only when the caller must wait:
   * stdin must drain before more input is accepted (settles when it did, or,
   * with `emitBudgetBytes`, once that much output was passed on meanwhile), or
   * the command failed (rejects with a `TSMR_STREAMING_COMMAND` error). Input
   * to a command that exited successfully, or closed stdin, is dropped.
   */
  write(data: Uint8Array): void | Promise<void> {
    if (this.failedExit() || this.spawnError !== undefined || this.outputError !== undefined) {
      return this.until(() => false);
    }
    // The command closed stdin: nothing more can reach it. Wait for its exit
    // status (reading its output meanwhile) so a failure is reported now.
    if (this.stdinDone)
      return this.exit === undefined ? this.until(() => this.exit !== undefined) : undefined;
    if (this.batchPos + data.length < this.batch.length) {
      this.batch.set(data, this.batchPos);
      this.batchPos += data.length;
      return;
    }
    for (let at = 0; at < data.length;) {
      const n = Math.min(data.length - at, this.batch.length - this.batchPos);
      this.batch.set(data.subarray(at, at + n), this.batchPos);
      this.batchPos += n;
      at += n;
      if (this.batchPos === this.batch.length) this.queueBatch();
    }
    return this.queue.length === 0 ? undefined : this.sendAndWait();
  }

  /** Queues one byte (a tab or a newline). */
  writeByte(byte: number): void | Promise<void> {
    if (this.batchPos + 1 < this.batch.length && !this.stdinDone && this.exit === undefined) {
      this.batch[this.batchPos++] = byte;
      return;
    }
    return this.write(Uint8Array.of(byte));
  }

  /** Queues a latin1 string's bytes (one byte per character). */
  writeLatin1(text: string): void | Promise<void> {
    if (this.batchPos + text.length < this.batch.length && !this.stdinDone && this.exit === undefined) {
      this.batchPos += (this.batch as Latin1Writer).latin1Write(text, this.batchPos, text.length);
      return;
    }
    return this.write(Buffer.from(text, 'latin1'));
  }

  /**
   * Ends stdin, reads stdout to its end (passing it to `onStdout`), and waits
   * for the command to exit. Removes the scratch directory.
   *
   * @throws TsmrError `TSMR_STREAMING_COMMAND` when the command could not be
   *   started, exited non-zero, was killed by a signal, or its output could not
   *   be read; the message names the command, the status and the last lines
   *   of stderr.
   */
  async finish(): Promise<void> {
    try {
      if (!this.stdinDone) {
        this.queueBatch();
        this.sendQueued();
        await this.until(() => this.queue.length === 0 || this.stdinDone || this.exit !== undefined);
        if (!this.stdinDone) {
          this.stdinDone = true;
          this.child?.stdin.end();
        }
      }
      await this.until(() => this.stdoutEnded && this.stderrEnded && this.exit !== undefined);
    } finally {
      this.destroy();
    }
  }

  /** Kills the command if it still runs (SIGKILL) and removes the scratch directory. Idempotent. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    live.delete(this);
    const child = this.child;
    if (child !== undefined) {
      if (this.exit === undefined) child.kill('SIGKILL');
      child.stdin.destroy();
      child.stdout.destroy();
      child.stderr.destroy();
    }
    rmSync(this.scratchDir, { recursive: true, force: true });
  }

  /** Moves the current batch (full, or the last one) to the queue. */
  private queueBatch(): void {
    if (this.batchPos === 0) return;
    this.queue.push(this.batchPos === this.batch.length ? this.batch : this.batch.subarray(0, this.batchPos));
    // The stream keeps a chunk until it is written: the next batch is a new buffer.
    this.batch = Buffer.allocUnsafe(STDIN_BATCH_BYTES);
    this.batchPos = 0;
  }

  /** Hands queued batches to stdin until it asks to drain. */
  private sendQueued(): void {
    const stdin = this.child?.stdin;
    while (this.queue.length > 0 && !this.needDrain && !this.stdinDone && stdin !== undefined) {
      if (!stdin.write(this.queue.shift() as Buffer)) this.needDrain = true;
    }
    if (this.stdinDone) this.queue.length = 0;
  }

  private sendAndWait(): void | Promise<void> {
    this.sendQueued();
    if (this.queue.length === 0) return;
    return this.until(() => this.queue.length === 0 || this.stdinDone || this.exit !== undefined, true);
  }

  /**
   * Reads stdout and waits until `done()` holds. Rejects as soon as the
   * command is known to have failed (with all of its stderr, or after a grace
   * period).
   */
  private async until(done: () => boolean, budgeted = false): Promise<void> {
    this.reading++;
    this.budgetLeft = budgeted
      ? (this.opts.emitBudgetBytes ?? Number.POSITIVE_INFINITY)
      : Number.POSITIVE_INFINITY;
    try {
      this.pump();
      for (;;) {
        const failure = this.failure();
        if (failure !== undefined) {
          this.destroy();
          throw failure;
        }
        if (done() || this.budgetLeft <= 0) return;
        await new Promise<void>((wake) => this.waiters.push(wake));
      }
    } finally {
      this.reading--;
      this.budgetLeft = Number.POSITIVE_INFINITY;
    }
  }

  private notify(): void {
    const waiters = this.waiters;
    if (waiters.length === 0) return;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** Passes buffered stdout to the caller, if the caller is waiting on us. */
  private pump(): void {
    const child = this.child;
    if (this.reading === 0 || child === undefined || this.outputError !== undefined) return;
    try {
      let chunk: Buffer | null;
      while (
        this.reading > 0 &&
        this.budgetLeft > 0 &&
        (chunk = child.stdout.read() as Buffer | null) !== null
      ) {
        this.budgetLeft -= chunk.length;
        this.opts.onStdout(chunk);
      }
    } catch (error) {
      this.outputError = error;
      if (this.exit === undefined) child.kill('SIGKILL');
    }
  }

  private failedExit(): boolean {
    return this.exit !== undefined && (this.exit.code !== 0 || this.exit.signal !== null);
  }

  /** The error to throw, once it is complete; `undefined` while none (yet). */
  private failure(): unknown {
    if (this.outputError !== undefined) return this.outputError;
    if (this.spawnError !== undefined) {
      return new TsmrError(
        ErrorCode.STREAMING_COMMAND,
        `cannot start ${this.describe()}: ${this.spawnError.message}`,
        { cause: this.spawnError, details: this.details() },
      );
    }
    if (!this.failedExit() || !(this.stderrEnded || this.graceOver)) return undefined;
    const { code, signal } = this.exit as { code: number | null; signal: NodeJS.Signals | null };
    const status = signal !== null ? `was killed by signal ${signal}` : `exited with code ${code}`;
    const tail = this.stderr.lines();
    const stderrText =
      tail.length === 0
        ? 'It wrote nothing to stderr.'
        : `Last ${tail.length === 1 ? 'line' : `${tail.length} lines`} of its stderr:\n${tail.map((l) => `  | ${l}`).join('\n')}`;
    return new TsmrError(ErrorCode.STREAMING_COMMAND, `${this.describe()} ${status}.\n${stderrText}`, {
      details: { ...this.details(), exitCode: code, signal, stderrTail: tail },
    });
  }

  private describe(): string {
    const { role, command, taskId, attempt } = this.opts;
    const name = role === 'map' ? 'mapper' : role === 'reduce' ? 'reducer' : 'combiner';
    return `the ${name} command \`${command}\` (task ${taskId}, attempt ${attempt})`;
  }

  private details(): Record<string, unknown> {
    const { role, command, taskId, attempt } = this.opts;
    return { command, role, taskId, attempt };
  }
}

const notAPath = /[$*?[\]{}~=`'"\\]/;

/**
 * Hadoop Streaming ships the files a job names (`-file`) into each task's
 * working directory. tsmr does the same without a flag: every word of the
 * command that is a relative path (without `..`) of a regular file, up to
 * {@link SHIP_FILE_MAX_BYTES}, under `baseDir` is copied to the same relative
 * path in the scratch directory, so `./map.sh` and `python3 map.py` work
 * unchanged. Copies, not links: a command that writes to such a file cannot
 * change the original. A path already there (a side file linked under that
 * name) is left as it is.
 */
export function shipFiles(command: string, baseDir: string, scratchDir: string): string[] {
  const shipped: string[] = [];
  for (let word of command.split(/[\s|;&<>()]+/)) {
    if (word.length >= 2 && (word[0] === "'" || word[0] === '"') && word.at(-1) === word[0]) {
      word = word.slice(1, -1);
    }
    if (word === '' || word.startsWith('-') || notAPath.test(word) || isAbsolute(word)) continue;
    const rel = normalize(word);
    if (rel === '.' || rel === '..' || rel.startsWith(`..${sep}`) || shipped.includes(rel)) continue;
    const source = resolve(baseDir, rel);
    const stats = statSync(source, { throwIfNoEntry: false });
    if (stats === undefined || !stats.isFile() || stats.size > SHIP_FILE_MAX_BYTES) continue;
    const target = join(scratchDir, rel);
    if (lstatSync(target, { throwIfNoEntry: false }) !== undefined) continue;
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(source, target);
    shipped.push(rel);
  }
  return shipped;
}
