/**
 * The dashboard's state on the server side: a {@link DashboardState} that
 * sources (a job handle, the local worker sampler; later the coordinator)
 * change by publishing {@link DashboardUpdate}s, and that listeners (the
 * event streams of open pages, the terminal worker table) follow.
 *
 * Publishing costs one {@link applyUpdate} and a call per listener: with no
 * page open, nothing is serialized or sent.
 *
 * @module
 */
import { applyUpdate, type DashboardState, type DashboardUpdate, emptyState } from './model.ts';

export type UpdateListener = (update: DashboardUpdate) => void;

export class DashboardStore {
  readonly #state: DashboardState;
  readonly #listeners = new Set<UpdateListener>();

  /** @param now epoch ms (default: the clock). */
  constructor(source: DashboardState['source'], now = Date.now()) {
    this.#state = emptyState(source, now);
  }

  /** The state now. Live, not a copy: read or serialize it at once, never change it. */
  get state(): Readonly<DashboardState> {
    return this.#state;
  }

  /** Applies `update` and hands it to every listener, in subscription order. */
  publish(update: DashboardUpdate): void {
    applyUpdate(this.#state, update);
    for (const listener of this.#listeners) listener(update);
  }

  /** Calls `listener` with every update published from now on; returns the unsubscribe function. */
  subscribe(listener: UpdateListener): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }
}
