/**
 * The map outputs a cluster worker holds: `(jobId, mapAttemptId)` → the data
 * file and index its shuffle server serves (`shuffle-server.ts` `lookup`),
 * and what its heartbeats list. A map attempt's output is added when the
 * attempt succeeds, before its success is reported, so that the coordinator
 * never hands out a location the worker does not serve yet.
 *
 * It also holds the records files of a job without an output directory
 * (the job's results, `worker-attempts.ts` `addResults`), served the same
 * way under their reduce attempt ids, and not listed in heartbeats.
 *
 * The registry only remembers; the files are the worker's
 * (`<workDir>/jobs/<jobId>/attempts/<mapAttemptId>/`), deleted with their job.
 */
import { isAttemptId } from './ids.ts';
import type { ServedMapOutput } from './shuffle-server.ts';
import type { MapOutputHeld } from './wire-worker.ts';

export class MapOutputRegistry {
  private readonly jobs = new Map<string, Map<string, ServedMapOutput>>();

  add(jobId: string, mapAttemptId: string, output: ServedMapOutput): void {
    let outputs = this.jobs.get(jobId);
    if (outputs === undefined) this.jobs.set(jobId, (outputs = new Map()));
    outputs.set(mapAttemptId, output);
  }

  get(jobId: string, mapAttemptId: string): ServedMapOutput | undefined {
    return this.jobs.get(jobId)?.get(mapAttemptId);
  }

  /** True while the worker holds an output of `jobId` (its shuffle key is served only then). */
  hasJob(jobId: string): boolean {
    return this.jobs.has(jobId);
  }

  /** Every map output held, for `Register` and `Heartbeat` (not the results of reduce attempts). */
  held(): MapOutputHeld[] {
    return [...this.jobs].flatMap(([jobId, outputs]) =>
      [...outputs.keys()]
        .filter((id) => isAttemptId(id, 'map'))
        .map((mapAttemptId) => ({ jobId, mapAttemptId })),
    );
  }

  get size(): number {
    let n = 0;
    for (const outputs of this.jobs.values()) n += outputs.size;
    return n;
  }

  /** Forgets the outputs of `jobId` (its files are deleted by the caller). */
  dropJob(jobId: string): void {
    this.jobs.delete(jobId);
  }

  /** Forgets every output: the incarnation that made them ended. */
  dropAll(): void {
    this.jobs.clear();
  }
}
