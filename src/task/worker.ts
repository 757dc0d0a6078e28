/**
 * Entry point of a worker thread (a piscina task): runs one attempt and sends
 * progress through the given port.
 */
import type { MessagePort } from 'node:worker_threads';
import { serializeError } from '../errors.ts';
import { loadJobBody } from './load-job.ts';
import type { TaskMessage, TaskProgress, TaskResult } from './messages.ts';
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
  try {
    const body = await loadJobBody(msg.job);
    return await runTask(msg, body, scratchDir, (progress: TaskProgress) => port.postMessage(progress));
  } catch (error) {
    // Structured clone keeps only name, message and stack of an Error; send the whole of it.
    throw { serializedError: serializeError(error) };
  } finally {
    port.close();
  }
}
