/**
 * Size limits of control-plane messages, per service and direction, as
 * Connect's `readMaxBytes` (what a side accepts) and `writeMaxBytes` (what it
 * sends). A message over a limit is refused with `RESOURCE_EXHAUSTED` before
 * it is parsed; the connection and the server stay up.
 *
 * The default is gRPC's: 4 MiB per message. Job bundles are the one large
 * thing, so each service gets the larger limit only in the direction bundles
 * flow: clients upload them (`ClientService` reads up to a bundle), workers
 * download them (`WorkerService` writes up to a bundle). Heartbeats and
 * reports, the most frequent messages, stay under 4 MiB.
 */

export const MiB = 1024 * 1024;

/** Default limit of one message, bytes (gRPC's default `max_receive_message_length`). */
export const MESSAGE_MAX_BYTES = 4 * MiB;

/** Largest job bundle (an esbuild ES module, `tsmr` external), bytes. */
export const BUNDLE_MAX_BYTES = 64 * MiB;

/** Room for a bundle message's other fields (hash, framing). */
const ENVELOPE = 64 * 1024;

/** Limits of one side of a service. */
export interface MessageLimits {
  readMaxBytes: number;
  writeMaxBytes: number;
}

/**
 * Server-side limits, for `router.service(Service, impl, serviceLimits.x)`.
 * - `worker`: requests from workers up to 4 MiB; answers up to a bundle
 *   (`GetBundle`, and task leases of reduces with many map outputs).
 * - `client`: requests up to a bundle (`UploadBundle`); answers (status,
 *   job reports) up to 16 MiB.
 */
export const serviceLimits = {
  worker: { readMaxBytes: MESSAGE_MAX_BYTES, writeMaxBytes: BUNDLE_MAX_BYTES + ENVELOPE },
  client: { readMaxBytes: BUNDLE_MAX_BYTES + ENVELOPE, writeMaxBytes: 16 * MiB },
} as const satisfies Record<string, MessageLimits>;

/**
 * Client-side limits: the largest message of either service in each
 * direction, since one transport serves every call of a process.
 */
export const clientLimits: MessageLimits = {
  readMaxBytes: BUNDLE_MAX_BYTES + ENVELOPE,
  writeMaxBytes: BUNDLE_MAX_BYTES + ENVELOPE,
};
