import type http from 'node:http';
import type { Duplex } from 'node:stream';
import type { MikroORM } from '@mikro-orm/postgresql';
import { GraphQLError, getOperationAST, parse, specifiedRules, validate, type DocumentNode, type GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { decodeJwt } from 'jose';
import { WebSocketServer, type WebSocket } from 'ws';
import { checkOperationAccess } from '../modules/auth/auth.guard';
import type { Authenticator } from '../modules/auth/authenticator';
import { ActorKind, type Viewer } from '../core/viewer';
import { MuluError, rateLimited, unauthenticated } from '../core/errors';
import { elapsedMs } from '../core/elapsed';
import { callerKey, type RateLimiter } from '../http/rate-limit';
import type { LiveUpdates } from '../modules/notifications/live-updates';
import type { MuluContext } from './context';
import { newDeadline } from './execution-budget';
import { formatError } from './format-error';
import { createLoaders } from './loaders';
import { checkDocumentNesting, operationLimits, type OperationLimits } from './limits';
import { queryCost } from './query-cost';

/**
 * Live subscriptions one caller may hold at once, over all its connections to
 * this process. Every push runs each subscription's selection: without a cap,
 * one connection holding thousands of `figuresChanged` of one region made each
 * change of that region cost thousands of statements.
 */
export const MAX_SUBSCRIPTIONS_PER_CALLER = 100;

/**
 * Open connections one caller may hold at once to this process. Each holds a
 * socket (a file descriptor) and its buffers for as long as its client
 * answers pings: without a cap, one token opening a connection per request
 * its rate limit allows (600 a minute) and keeping them idle held 36,000
 * within an hour, until the process ran out of descriptors for everyone.
 */
export const MAX_CONNECTIONS_PER_CALLER = 50;

/** Close codes a client sees (graphql-ws uses 44xx for its own). */
export const CLOSE_CODES = { unauthenticated: 4401, tokenExpired: 4401, rateLimited: 4429 } as const;

interface ConnectionState {
  viewer: Viewer | null;
  /** Who the subscription cap counts: the signed-in caller, or the address of an anonymous one. */
  caller: string;
  /** Ids of this connection's subscriptions counted against its caller's cap. */
  counted: Set<string>;
  expiryTimer?: NodeJS.Timeout;
  /** For an API key's connection: whether the key still signs in (checked again at most every KEY_RECHECK_MS). */
  stillSignedIn?: () => Promise<boolean>;
}

/** How often, at most, an API key's connection checks that its key was not revoked meanwhile (one lookup, as a request makes). */
export const KEY_RECHECK_MS = 1000;

const KEY_REVOKED = 'This API key has been revoked; sign in with a valid one.';

/**
 * A check of a connection's API key, run at most once every KEY_RECHECK_MS:
 * revokeApiKey takes effect at once for requests, and a graphql-ws
 * connection, signed in once when it opened, would otherwise keep running
 * operations and receiving pushes (a department's subscription requests)
 * with the revoked key for as long as it stays open. A database that cannot
 * answer the check is not taken for a revocation.
 */
export function keyCheck(authenticate: () => Promise<unknown>): () => Promise<boolean> {
  // The monotonic clock: a wall clock set back an hour skipped the checks for that hour.
  let checkedAt = elapsedMs(); // signed in as the connection opened
  let result = Promise.resolve(true);
  return () => {
    if (elapsedMs() - checkedAt < KEY_RECHECK_MS) return result;
    checkedAt = elapsedMs();
    result = result.then((valid) =>
      valid
        ? authenticate().then(
            () => true,
            (error) => !(error instanceof MuluError && error.code === 'UNAUTHENTICATED'),
          )
        : false,
    );
    return result;
  };
}

/** The address of a WebSocket's client, as the HTTP routes name it (src/http/caller.ts). */
const addressOfSocket = (request: http.IncomingMessage) => request.socket.remoteAddress ?? 'unknown';

/** The bearer token of a graphql-ws connection: `connectionParams.authorization` ("Bearer ...") or `connectionParams.token`. */
function authorizationOf(params: Record<string, unknown> | undefined): string | undefined {
  if (!params) return undefined;
  if (typeof params.authorization === 'string') return params.authorization;
  if (typeof params.Authorization === 'string') return params.Authorization;
  if (typeof params.token === 'string' && params.token) return `Bearer ${params.token}`;
  return undefined;
}

/** When a JWT stops being valid, in epoch milliseconds; null for API keys and the admin key (no expiry). */
function expiryOf(authorization: string | undefined): number | null {
  const token = authorization?.replace(/^Bearer\s+/i, '').trim();
  if (!token || token.split('.').length !== 3) return null;
  try {
    const { exp } = decodeJwt(token);
    return typeof exp === 'number' ? exp * 1000 : null;
  } catch {
    return null;
  }
}

const toGraphQLError = (error: unknown) =>
  error instanceof MuluError
    ? new GraphQLError(error.message, { extensions: { code: error.code, ...error.details } })
    : error instanceof GraphQLError
      ? error
      : new GraphQLError('Internal server error.', { extensions: { code: 'INTERNAL_SERVER_ERROR' } });

/**
 * GraphQL subscriptions over WebSocket (the graphql-ws protocol) on the same
 * path as HTTP. The same rules as HTTP: the token (in connectionParams) is
 * checked when the connection opens, every operation passes the same access
 * check and cost limit, errors are masked the same way; and the connection is
 * closed when its token expires.
 */
export function attachGraphQLWebSocket(options: {
  httpServer: http.Server;
  schema: GraphQLSchema;
  orm: MikroORM;
  authenticator: Authenticator;
  live: LiveUpdates;
  limits: OperationLimits;
  /** The largest message a client may send (as a POSTed GraphQL body); a longer one closes the connection (1009) unread. */
  maxMessageBytes: number;
  /** MULU_SEND_STALL_MS: a connection that left a ping unanswered this long is cut. */
  stallMs: number;
  /** The server's per-caller rate limits (src/http/rate-limit.ts): each operation counts as one request. */
  rateLimiter: RateLimiter;
}) {
  const { schema, orm, authenticator, live } = options;
  const maxQueryCost = options.limits.maxCost;
  // The same shape limits as HTTP (limits.ts): tokens while parsing, aliases, depth, directives and root fields while validating.
  const { validationRules, parseOptions } = operationLimits(options.limits);
  const rules = [...specifiedRules, ...validationRules];
  // ws's own default is 100 MiB a message, buffered whole before anyone reads it, even before connection_init (so by
  // anyone): one anonymous connection sending 90 MB took the process's RSS from 253 to 523 MB before it was refused.
  // noServer, handed the HTTP server's upgrades: attached with `server`, ws re-emits the HTTP server's own errors (a
  // port in use at start), which graphql-ws prints to the console with their stack as an "internal error".
  const wss = new WebSocketServer({ noServer: true, path: '/graphql', maxPayload: options.maxMessageBytes });
  const upgrade = (request: http.IncomingMessage, socket: Duplex, head: Buffer) =>
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
  options.httpServer.on('upgrade', upgrade);
  const states = new WeakMap<object, ConnectionState>();
  /** Live subscriptions of each caller (MAX_SUBSCRIPTIONS_PER_CALLER), over every connection. */
  const subscriptionsOf = new Map<string, number>();
  /** Open connections of each caller (MAX_CONNECTIONS_PER_CALLER). */
  const connectionsOf = new Map<string, number>();
  const release = (state: ConnectionState, id: string) => {
    if (!state.counted.delete(id)) return;
    const held = (subscriptionsOf.get(state.caller) ?? 1) - 1;
    if (held > 0) subscriptionsOf.set(state.caller, held);
    else subscriptionsOf.delete(state.caller);
  };

  // A client that stopped reading (or vanished without closing) would keep its connection, its subscriptions and
  // every message they produce waiting in this process for good: a WebSocket has no answer to finish, so the HTTP
  // rule (src/http/send-stall.ts) cannot apply. Instead every connection is pinged every `stallMs`, and one that has
  // not answered the previous ping is cut. Browsers and WebSocket libraries answer pings by themselves, as they read.
  const answered = new WeakSet<WebSocket>();
  wss.on('connection', (socket) => {
    answered.add(socket);
    socket.on('pong', () => answered.add(socket));
  });
  const heartbeat = setInterval(() => {
    for (const socket of wss.clients) {
      if (!answered.delete(socket)) socket.terminate();
      else socket.ping();
    }
  }, options.stallMs);
  heartbeat.unref();

  const disposable = useServer<Record<string, unknown> | undefined>(
    {
      schema,
      async onConnect(ctx) {
        const authorization = authorizationOf(ctx.connectionParams);
        const address = addressOfSocket(ctx.extra.request);
        let viewer: Viewer | null;
        try {
          viewer = await authenticator.authenticate(authorization, orm.em.fork());
        } catch (error) {
          // A failed sign-in counts against the address, as over HTTP, so guessing keys by reconnecting is limited too.
          const refusal = await options.rateLimiter.consume(null, address);
          if (refusal) ctx.extra.socket.close(CLOSE_CODES.rateLimited, refusal.message.slice(0, 120));
          else ctx.extra.socket.close(CLOSE_CODES.unauthenticated, error instanceof MuluError ? error.message.slice(0, 120) : 'Unauthenticated');
          return false;
        }
        // Opening a connection is a request: a caller cannot reconnect (and sign in, an API key's lookup) without limit.
        const refusal = await options.rateLimiter.consume(viewer, address);
        if (refusal) {
          ctx.extra.socket.close(CLOSE_CODES.rateLimited, refusal.message.slice(0, 120));
          return false;
        }
        const caller = callerKey(viewer, address);
        // A client gone while it was signed in had its onClose already: counted now, it would hold a place for good.
        if (ctx.extra.socket.readyState !== ctx.extra.socket.OPEN) return false;
        const open = connectionsOf.get(caller) ?? 0;
        if (open >= MAX_CONNECTIONS_PER_CALLER) {
          ctx.extra.socket.close(CLOSE_CODES.rateLimited, `You already hold ${open} open connections, the most one caller may; close one first.`);
          return false;
        }
        connectionsOf.set(caller, open + 1);
        const state: ConnectionState = { viewer, caller, counted: new Set() };
        const expiresAt = expiryOf(authorization);
        if (expiresAt !== null) {
          // setTimeout cannot wait longer than about 24.8 days; tokens live hours.
          const wait = Math.min(Math.max(expiresAt - Date.now(), 0), 2_147_483_647);
          state.expiryTimer = setTimeout(() => ctx.extra.socket.close(CLOSE_CODES.tokenExpired, 'The token has expired; sign in again.'), wait);
          state.expiryTimer.unref();
        }
        if (viewer?.kind === ActorKind.API_KEY) state.stillSignedIn = keyCheck(() => authenticator.authenticate(authorization, orm.em.fork()));
        states.set(ctx, state);
        return true;
      },
      onClose(ctx) {
        const state = states.get(ctx);
        if (state?.expiryTimer) clearTimeout(state.expiryTimer);
        if (!state) return;
        for (const id of [...state.counted]) release(state, id);
        const open = (connectionsOf.get(state.caller) ?? 1) - 1;
        if (open > 0) connectionsOf.set(state.caller, open);
        else connectionsOf.delete(state.caller);
      },
      onComplete(ctx, id) {
        const state = states.get(ctx);
        if (state) release(state, id);
      },
      async onSubscribe(ctx, id, payload) {
        const state = states.get(ctx);
        // Counted before anything is parsed: a flood of malformed operations is a flood too.
        const refusal = await options.rateLimiter.consume(state?.viewer ?? null, addressOfSocket(ctx.extra.request));
        if (refusal) return [toGraphQLError(rateLimited(refusal.message, refusal.retryAfterSeconds))];
        if (state?.stillSignedIn && !(await state.stillSignedIn())) {
          ctx.extra.socket.close(CLOSE_CODES.unauthenticated, KEY_REVOKED);
          return [toGraphQLError(unauthenticated(KEY_REVOKED))];
        }
        let document: DocumentNode;
        try {
          checkDocumentNesting(payload.query);
          document = parse(payload.query, parseOptions);
        } catch (error) {
          return [error as GraphQLError];
        }
        const validationErrors = validate(schema, document, rules);
        if (validationErrors.length > 0) return validationErrors;
        const operation = getOperationAST(document, payload.operationName);
        if (!operation) return [new GraphQLError('Name the operation to run (operationName).', { extensions: { code: 'BAD_REQUEST' } })];
        const em = orm.em.fork();
        const contextValue: MuluContext = {
          em,
          viewer: state?.viewer ?? null,
          anonymousStats: authenticator.anonymousStats,
          loaders: createLoaders(em),
          live,
          // A subscription lives as long as its connection: no request deadline (each statement keeps the statement timeout).
          deadline: newDeadline(),
        };
        try {
          checkOperationAccess(schema, document, operation, contextValue);
          const variables = payload.variables ?? {};
          // Fails closed, as on HTTP (query-cost.ts): an operation whose cost cannot be estimated is not run.
          let cost: number;
          try {
            cost = queryCost(schema, document, operation, variables, maxQueryCost);
          } catch {
            throw new MuluError(
              'BAD_USER_INPUT',
              `This operation would cost more than ${maxQueryCost}, or its cost could not be estimated (check its variables); ask for smaller pages or fewer nested lists.`,
              { maximumCost: maxQueryCost },
            );
          }
          if (cost > maxQueryCost) {
            throw new MuluError(
              'BAD_USER_INPUT',
              `This operation would cost ${cost} (fields times page sizes); the limit is ${maxQueryCost}. Ask for smaller pages or fewer nested lists.`,
              { cost, maximumCost: maxQueryCost },
            );
          }
          if (state && operation.operation === 'subscription') {
            const held = subscriptionsOf.get(state.caller) ?? 0;
            if (held >= MAX_SUBSCRIPTIONS_PER_CALLER) {
              throw new MuluError(
                'BAD_USER_INPUT',
                `You already hold ${held} live subscriptions, the most one caller may hold at once; complete some you no longer need before starting another.`,
              );
            }
            subscriptionsOf.set(state.caller, held + 1);
            state.counted.add(id);
          }
        } catch (error) {
          return [toGraphQLError(error)];
        }
        return { schema, document, operationName: payload.operationName, variableValues: payload.variables, contextValue };
      },
      // The same masking as HTTP (errors.ts): no SQL or stack traces reach a client.
      async onNext(ctx, _id, _payload, _args, result) {
        const state = states.get(ctx);
        if (state?.stillSignedIn && !(await state.stillSignedIn())) {
          ctx.extra.socket.close(CLOSE_CODES.unauthenticated, KEY_REVOKED);
          return { errors: [formatError({ message: KEY_REVOKED }, unauthenticated(KEY_REVOKED))] };
        }
        if (!result.errors?.length) return;
        return { ...result, errors: result.errors.map((error) => formatError(error.toJSON(), error)) };
      },
      onError(_ctx, _id, _payload, errors) {
        return errors.map((error) => formatError(error.toJSON(), error));
      },
    },
    wss,
    // graphql-ws's own keep-alive is off (0): it pinged every 12 s and cut a connection that left one unanswered for
    // 12 s, whatever MULU_SEND_STALL_MS says, so a dashboard reading a burst of pushes over a slow link was cut
    // sooner than the operator allowed. The heartbeat above is the one rule.
    0,
  );

  return {
    /** Closes every connection (their streams end) and the WebSocket server. */
    async stop(): Promise<void> {
      clearInterval(heartbeat);
      options.httpServer.off('upgrade', upgrade);
      await disposable.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
