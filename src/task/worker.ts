/**
 * Entry point of a worker thread (a piscina task): runs one attempt and sends
 * progress through the given port. A `kill` message on that port stops the
 * attempt at its next record, group or close: the driver also terminates the
 * thread, but a termination that arrives while the thread imports the job
 * module was seen to be lost (Node 24.21, under load), and the attempt must
 * not then run on and write files after its scratch was deleted.
 */
import type { MessagePort } from 'node:worker_threads';
import { serializeError } from '../errors.ts';
import { loadJobBody } from './load-job.ts';
import { abortableBody, killed } from './abortable-body.ts';
import type { AttemptControl, TaskMessage, TaskProgress, TaskResult } from './messages.ts';
import { runTask } from './run-task.ts';

export default async function runAttempt({
  msg,
  scratchDir,
  port,
}: {
  msg: TaskMessage;
  scratchDir: string;
  port: MessagePort;
}): Promise<TaskResult> {
  const kill = new AbortController();
  port.on('message', (control: AttemptControl) => kill.abort(killed(msg, control.kill)));
  try {
    const body = abortableBody(await loadJobBody(msg.job), kill.signal);
    kill.signal.throwIfAborted();
    return await runTask(msg, body, scratchDir, (progress: TaskProgress) => port.postMessage(progress));
  } catch (error) {
    // Structured clone keeps only name, message and stack of an Error; send the whole of it.
    throw { serializedError: serializeError(error) };
  } finally {
    port.close();
  }
}
