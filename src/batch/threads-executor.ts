/**
 * Runs attempts on a piscina pool of worker threads (the pool library of the
 * MapReduce local mode), several items per message (see `batch-sizer.ts`).
 *
 * Two messages per thread are out at a time, so that a thread finds its next
 * message waiting when it finishes one, even when this thread is slow to
 * answer. With a time limit, only one: a message then starts as soon as it
 * is sent and its deadline can be watched from here. When a
 * message fails as a whole — its thread was terminated by the time limit,
 * crashed, or its reply could not be cloned — its attempts are sent again one
 * per message, so that only the item at fault fails.
 */
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { deserializeError, ErrorCode, TsmrError } from '../errors.ts';
import { ownModuleUrl } from '../own-module-url.ts';
import { timeoutError, toError } from './attempt.ts';
import type { AttemptInput, AttemptOutcome } from './attempt.ts';
import { BatchSizer } from './batch-sizer.ts';
import type { Executor } from './executor.ts';
import { epochNow } from './epoch-clock.ts';
import type { ChunkReply, ChunkTask } from './thread-worker.ts';

const workerFile = fileURLToPath(ownModuleUrl('./thread-worker.ts', import.meta.url));

/** Time a message gets beyond `timeout × items` before its thread is terminated, in ms. */
const graceMs = 500;

export interface ThreadsExecutorOptions {
  /** Import specifier of the item function's module, and its export. */
  module: string;
  exportName: string;
  threads: number;
  batchSize: number | 'auto';
  /** Items in the batch, when known (caps auto batch sizes). */
  total: number | undefined;
  timeout: number | undefined;
}

interface Pending<T, R> {
  input: AttemptInput<T>;
  resolve(outcome: AttemptOutcome<R>): void;
  reject(error: unknown): void;
}

export class ThreadsExecutor<T, R> implements Executor<T, R> {
  readonly #options: ThreadsExecutorOptions;
  readonly #pool: Piscina;
  readonly #sizer: BatchSizer;
  readonly #controllers = new Set<AbortController>();
  /** Messages per thread in flight. */
  readonly #depth: number;
  #queue: Pending<T, R>[] = [];
  /** Attempts of failed messages, to be sent one per message. */
  #alone: Pending<T, R>[] = [];
  #busy = 0;
  #flushScheduled = false;
  #closed = false;

  constructor(options: ThreadsExecutorOptions) {
    this.#options = options;
    this.#sizer = new BatchSizer({ size: options.batchSize, threads: options.threads, total: options.total });
    this.#depth = options.timeout === undefined ? 2 : 1;
    this.#pool = new Piscina({
      filename: workerFile,
      minThreads: options.threads,
      maxThreads: options.threads,
      concurrentTasksPerWorker: this.#depth,
      idleTimeout: 30_000,
    });
  }

  /** The messages in flight plus one ready to go. */
  get capacity(): number {
    return (this.#options.threads * this.#depth + 1) * this.#sizer.size;
  }

  get batchSize(): number {
    return this.#sizer.size;
  }

  run(input: AttemptInput<T>): Promise<AttemptOutcome<R>> {
    if (this.#closed) return Promise.reject(closedError());
    return new Promise((resolve, reject) => {
      this.#queue.push({ input, resolve, reject });
      this.#dispatch(false);
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const c of this.#controllers) c.abort(closedError());
    for (const p of [...this.#alone, ...this.#queue]) p.reject(closedError());
    this.#alone = [];
    this.#queue = [];
    await this.#pool.destroy();
  }

  /** Sends full messages to idle threads; partial ones only when `partial` (the queue stopped filling). */
  #dispatch(partial: boolean): void {
    while (!this.#closed && this.#busy < this.#options.threads * this.#depth) {
      const alone = this.#alone.shift();
      if (alone !== undefined) {
        this.#send([alone], true);
        continue;
      }
      const size = this.#sizer.size;
      if (this.#queue.length === 0) return;
      if (this.#queue.length < size && !partial) {
        // More attempts may be on their way in this turn of the event loop.
        if (!this.#flushScheduled) {
          this.#flushScheduled = true;
          setImmediate(() => {
            this.#flushScheduled = false;
            this.#dispatch(true);
          });
        }
        return;
      }
      this.#send(this.#queue.splice(0, size), false);
    }
  }

  #send(chunk: Pending<T, R>[], alone: boolean): void {
    const { module, exportName, timeout } = this.#options;
    this.#busy++;
    const controller = new AbortController();
    this.#controllers.add(controller);
    const watchdog =
      timeout === undefined
        ? undefined
        : setTimeout(() => controller.abort(timedOut), timeout * chunk.length + graceMs);
    const task: ChunkTask = { module, exportName, timeout, attempts: chunk.map((p) => p.input) };
    const sentAt = epochNow();
    const settle = (reply: ChunkReply | undefined, error?: unknown): void => {
      clearTimeout(watchdog);
      this.#controllers.delete(controller);
      this.#busy--;
      if (this.#closed) {
        for (const p of chunk) p.reject(closedError());
        return;
      }
      const receivedAt = epochNow();
      const wallMs = receivedAt - sentAt;
      if (reply !== undefined && 'fatal' in reply) {
        const fatal = deserializeError(reply.fatal);
        for (const p of chunk) p.reject(fatal);
      } else if (reply !== undefined) {
        // In transit: from when the thread could have started (sent, or its previous message done) to
        // when it did, and from its end to the reply here.
        const inbound = reply.startedAt - Math.max(sentAt, reply.previousEndedAt);
        this.#sizer.observe(
          chunk.length,
          reply.workMs,
          Math.max(0, inbound) + Math.max(0, receivedAt - reply.endedAt),
        );
        reply.outcomes.forEach((o, i) =>
          chunk[i]!.resolve(
            o.ok ? (o as AttemptOutcome<R>) : { ok: false, error: deserializeError(o.error), ms: o.ms },
          ),
        );
      } else if (!alone && chunk.length > 1) {
        this.#alone.push(...chunk);
      } else {
        const p = chunk[0]!;
        const isTimeout = controller.signal.aborted && controller.signal.reason === timedOut;
        p.resolve({
          ok: false,
          error: isTimeout
            ? timeoutError(p.input.index, p.input.attempt, timeout!)
            : threadError(p.input, error),
          ms: wallMs,
        });
      }
      this.#dispatch(false);
    };
    this.#pool.run(task, { signal: controller.signal }).then(
      (reply: ChunkReply) => settle(reply),
      (error: unknown) => settle(undefined, error),
    );
  }
}

const timedOut = Symbol('timed out');

/** A message failed as a whole: its thread crashed, or its reply could not be cloned. */
function threadError(input: AttemptInput<unknown>, thrown: unknown): TsmrError {
  const cause = toError(thrown);
  // Errors cloned from a thread (a DOMException especially) may keep only their stack.
  const what = cause.message || cause.stack?.split('\n')[0] || 'unknown error';
  return new TsmrError(
    ErrorCode.USER_CODE,
    `the worker thread running item ${input.index} failed: ${what} (values and errors must be structured-cloneable)`,
    { cause, details: { index: input.index, attempt: input.attempt } },
  );
}

function closedError(): TsmrError {
  return new TsmrError(ErrorCode.CANCELLED, 'the batch was stopped');
}
