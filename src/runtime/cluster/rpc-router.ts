/**
 * What every control-plane RPC goes through on the server side, whatever
 * carries it (a socket in `rpc-server.ts`, or memory in
 * {@link createInProcessTransport}):
 *
 * - authentication, as a Connect `requestGate`: it runs once the request
 *   headers are in and before the body is read, so a caller without the
 *   cluster token cannot make the server read, decompress or parse anything.
 *   A missing, malformed or wrong `authorization: Bearer <token>` is refused
 *   with `UNAUTHENTICATED` and one warn log line (procedure, peer, reason;
 *   never the header);
 * - an interceptor that answers a message refused by `wire*.ts`
 *   (`TSMR_BAD_MESSAGE`) with `INVALID_ARGUMENT` and its message;
 * - message size limits (`rpc-limits.ts`).
 *
 * Sources: Connect-ES `ConnectRouterOptions` / `UniversalHandlerOptions`
 * (`requestGate`, `interceptors`, `readMaxBytes`), `createRouterTransport`.
 */
import { Code, ConnectError, createContextKey, createRouterTransport } from '@connectrpc/connect';
import type {
  ConnectRouter,
  ConnectRouterOptions,
  HandlerContext,
  Interceptor,
  Transport,
} from '@connectrpc/connect';
import { ErrorCode, isTsmrError } from '../../errors.ts';
import type { Logger } from '../../observe/logger.ts';
import { MESSAGE_MAX_BYTES } from './rpc-limits.ts';
import type { MessageLimits } from './rpc-limits.ts';
import { bearerInterceptor } from './rpc-client.ts';
import { checkBearer } from './token.ts';

/** The caller's address (`host:port`), set by the server for log lines. */
export const peerKey = createContextKey<string>('in-process', { description: 'tsmr peer address' });

export interface RpcRouterOptions {
  /** The cluster token; undefined: no authentication (loopback only, see `rpc-server.ts`). */
  token: string | undefined;
  log: Logger;
  /** Router-wide defaults; a service may override them (`serviceLimits`). Default 4 MiB each way. */
  limits?: Partial<MessageLimits>;
  /** Aborted when the server shuts down: every handler's `ctx.signal` aborts with it. */
  shutdownSignal?: AbortSignal;
}

/** Connect router options implementing the rules above. */
export function rpcRouterOptions(opts: RpcRouterOptions): ConnectRouterOptions {
  const { token, log } = opts;
  return {
    readMaxBytes: opts.limits?.readMaxBytes ?? MESSAGE_MAX_BYTES,
    writeMaxBytes: opts.limits?.writeMaxBytes ?? MESSAGE_MAX_BYTES,
    interceptors: [badMessageAsInvalidArgument],
    shutdownSignal: opts.shutdownSignal,
    requestGate: token === undefined ? undefined : (ctx) => authenticate(ctx, token, log),
  };
}

function authenticate(ctx: HandlerContext, token: string, log: Logger): void {
  const check = checkBearer(ctx.requestHeader.get('authorization'), token);
  if (check === 'ok') return;
  log.warn(
    { rpc: `${ctx.service.typeName}/${ctx.method.name}`, peer: ctx.values.get(peerKey), reason: check },
    'refused an RPC without the cluster token',
  );
  throw new ConnectError('missing or wrong cluster token (authorization: Bearer …)', Code.Unauthenticated);
}

/** `TSMR_BAD_MESSAGE` from a handler (a message refused by wire.ts) → `INVALID_ARGUMENT`. */
const badMessageAsInvalidArgument: Interceptor = (next) => async (req) => {
  try {
    return await next(req);
  } catch (error) {
    if (isTsmrError(error) && error.code === ErrorCode.BAD_MESSAGE) {
      throw new ConnectError(error.message, Code.InvalidArgument, undefined, undefined, error);
    }
    throw error;
  }
};

/**
 * A transport that runs `routes` in this process behind the real transport
 * interface (Connect's `createRouterTransport`), with the server's rules:
 * coordinator and worker logic is tested through it without a socket.
 *
 * @param opts.token the server's cluster token (undefined: no authentication).
 * @param opts.clientToken the token the client sends (default `opts.token`;
 *   undefined sends no `authorization` header).
 */
export function createInProcessTransport(
  routes: (router: ConnectRouter) => void,
  opts: RpcRouterOptions & { clientToken?: string },
): Transport {
  const clientToken = 'clientToken' in opts ? opts.clientToken : opts.token;
  return createRouterTransport(routes, {
    router: rpcRouterOptions(opts),
    transport: { interceptors: clientToken === undefined ? [] : [bearerInterceptor(clientToken)] },
  });
}
