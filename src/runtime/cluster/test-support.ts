/**
 * Helpers for the control-plane tests: stub services, a logger that keeps its
 * lines, a deadline on a promise, and a self-signed certificate.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { create } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import type { ConnectRouter, HandlerContext } from '@connectrpc/connect';
import pino from 'pino';
import type { Logger } from '../../observe/logger.ts';
import { ClientService, GetStatusResponseSchema } from './gen/tsmr/cluster/v1/client_service_pb.js';
import {
  HeartbeatResponseSchema,
  RegisterResponseSchema,
  SessionResponseSchema,
  WorkerService,
} from './gen/tsmr/cluster/v1/worker_service_pb.js';
import type { RegisterRequest, SessionRequest } from './gen/tsmr/cluster/v1/worker_service_pb.js';
import { serviceLimits } from './rpc-limits.ts';
import { uploadFromWire } from './wire-job.ts';
import { bundleHashFromWire } from './wire-worker.ts';

/** A test token (32 characters). */
export const TEST_TOKEN = '0123456789abcdef0123456789abcdef';

/** A pino logger whose lines (parsed) land in `lines`. */
export function memoryLogger(): { log: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { log, lines };
}

/** Rejects with a clear message if `p` has not settled within `ms` (an event wait, not a sleep). */
export async function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** What the stub services saw. */
export interface StubState {
  registered: RegisterRequest[];
  /** Sessions opened, with a promise that settles when each one's stream ends (the server's view). */
  sessions: Array<{ req: SessionRequest; ended: Promise<number> }>;
  /** Resolves each time a session opens. */
  onSession?: (index: number) => void;
  /** Bundles uploaded (checked by `uploadFromWire`), by SHA-256; `GetBundle` serves them. */
  bundles?: Map<string, Uint8Array>;
}

/**
 * Stub `WorkerService` and `ClientService`: `Register` answers incarnation
 * `registered.length`, `Heartbeat` answers nothing to do, `Session` sends
 * `attached` and holds the stream until the call ends, `GetStatus` answers
 * an empty status, `UploadBundle` keeps a checked bundle that `GetBundle`
 * serves. Other RPCs answer `UNIMPLEMENTED`.
 */
export function stubRoutes(state: StubState): (router: ConnectRouter) => void {
  return (router) => {
    router.service(
      WorkerService,
      {
        register(req) {
          state.registered.push(req);
          return create(RegisterResponseSchema, {
            incarnation: BigInt(state.registered.length),
            heartbeatIntervalMs: 2000,
            heartbeatTimeoutMs: 10_000,
          });
        },
        heartbeat: () => create(HeartbeatResponseSchema, {}),
        getBundle(req) {
          const bundle = state.bundles?.get(bundleHashFromWire(req));
          if (!bundle) throw new ConnectError('no such bundle', Code.NotFound);
          return { bundle };
        },
        async *session(req, ctx: HandlerContext) {
          let end!: (ms: number) => void;
          state.sessions.push({ req, ended: new Promise<number>((resolve) => (end = resolve)) });
          state.onSession?.(state.sessions.length - 1);
          try {
            yield create(SessionResponseSchema, { command: { case: 'attached', value: {} } });
            await new Promise<void>((resolve) => {
              if (ctx.signal.aborted) resolve();
              ctx.signal.addEventListener('abort', () => resolve(), { once: true });
            });
          } finally {
            end(performance.now());
          }
        },
      },
      serviceLimits.worker,
    );
    router.service(
      ClientService,
      {
        getStatus: () => create(GetStatusResponseSchema, {}),
        uploadBundle(req) {
          const { sha256, bundle } = uploadFromWire(req);
          (state.bundles ??= new Map()).set(sha256, bundle);
          return {};
        },
      },
      serviceLimits.client,
    );
  };
}

/** True when an `openssl` binary runs. */
export function haveOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A self-signed certificate for `localhost` and 127.0.0.1 (PEM), made with `openssl`. */
export function selfSignedCert(): { cert: string; key: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'tsmr-tls-'));
  const certPath = path.join(dir, 'cert.pem');
  const keyPath = path.join(dir, 'key.pem');
  try {
    execFileSync(
      'openssl',
      [
        ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
        ...['-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
        ...['-keyout', keyPath, '-out', certPath],
      ],
      { stdio: 'ignore' },
    );
    return { cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
