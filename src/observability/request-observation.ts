import type { ApolloServerPlugin } from '@apollo/server';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Request, RequestHandler, Response } from 'express';
import { randomUUID } from 'node:crypto';
import type { Authenticator } from '../modules/auth/authenticator';
import type { Viewer } from '../core/viewer';
import { RequestSlot } from '../core/request-scope';
import { sqlStateOf } from '../core/errors';
import { observeMutationRetries } from '../core/unit-of-work';
import { logger } from './logger';
import { errorsTotal, mutationRetries, requestDuration, requestsTotal, responseCacheRequests } from './metrics';

/** Response (and accepted request) header carrying the request id. */
export const REQUEST_ID_HEADER = 'x-request-id';

/** What one request did, gathered while it runs, logged and counted when its response is sent. */
export interface RequestObservation {
  id: string;
  /** GraphQL operation name (or "anonymous query"/"anonymous mutation"), or the route of a REST request. */
  operation?: string;
  /** Who called: kind, role and id of the viewer; "anonymous" without a token; absent when authentication failed. */
  caller?: string;
  /** SQL statements sent on behalf of the request. */
  sqlStatements: number;
  /** Error codes the client received (extensions.code), in order. */
  errorCodes: string[];
}

const slot = new RequestSlot<RequestObservation>();

// A mutation run again after a collision is logged, with the request's id, and counted: a deadlock no caller saw is still seen.
observeMutationRetries((mutation, attempt, error) => {
  const sqlState = sqlStateOf(error) ?? 'unknown';
  mutationRetries.inc({ mutation, sqlstate: sqlState });
  logger.warn(
    { reqId: currentObservation()?.id, mutation, attempt, sqlState, err: error },
    'the mutation collided with another (PostgreSQL undid it); running it again',
  );
});

/** The observation of the request being served, if any. */
export function currentObservation(): RequestObservation | undefined {
  return slot.get();
}

/** A client's own id is kept when it is a plain token (a proxy's or a caller's trace id); anything else is replaced. */
const CLIENT_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

const OPERATION_LABELS_MAX = 200;
/** The longest operation label kept: every scrape repeats a label on each line of its series (a histogram's 15). */
const OPERATION_LABEL_MAX_CHARS = 100;
const operationLabels = new Set<string>();

/**
 * Operation names and paths come from clients: the metric labels keep the
 * first 200 distinct ones of at most 100 characters, the rest count as
 * "other". Without the length bound, 250 anonymous requests with 8 KB
 * paths made every later scrape 25 MB.
 */
function operationLabel(operation: string | undefined): string {
  const name = operation ?? 'unknown';
  if (operationLabels.has(name)) return name;
  if (operationLabels.size >= OPERATION_LABELS_MAX || name.length > OPERATION_LABEL_MAX_CHARS) return 'other';
  operationLabels.add(name);
  return name;
}

/** A route's own word after its first segment (ready, directories, supervision-items), not a code, month, file or id. */
const ROUTE_WORD = /^[a-z]+(-[a-z]+)*$/;

/**
 * The route of a request that is not GraphQL, without ids or query strings:
 * /health/ready, /imports/directories, /reports/* (a region code, a month or
 * a directory code as the second segment is `*`: each was a label of its own,
 * and a few hundred directories' downloads took every place of the 200).
 */
function routeOf(path: string): string {
  const [, first = '', second] = path.split('?')[0].split('/');
  return `/${first}${second === undefined ? '' : `/${ROUTE_WORD.test(second) ? second : '*'}`}`;
}

/** The path as the client sent it (routers strip their mount point from req.url). */
function pathOf(req: { url?: string; originalUrl?: string }): string {
  return (req.originalUrl ?? req.url ?? '').split('?')[0];
}

export function describeCaller(viewer: Viewer | null): string {
  return viewer ? `${viewer.kind}:${viewer.role}:${viewer.id}` : 'anonymous';
}

/**
 * The first middleware of the app: gives each request an id (the client's
 * `x-request-id` if it sent a usable one, else a new UUID, returned in the
 * same header), counts the SQL statements sent on its behalf (knex's query
 * event fires in the sender's async context), and when the response is sent
 * writes one log line (id, method, path, operation, caller, status,
 * duration, SQL statements, response cache HIT/MISS, error codes) and
 * updates the request metrics.
 */
export function observeRequests(orm: MikroORM): RequestHandler {
  orm.em
    .getConnection()
    .getKnex()
    .on('query', () => {
      const observation = slot.get();
      if (observation) observation.sqlStatements++;
    });
  return (req, res, next) => {
    const sent = req.headers[REQUEST_ID_HEADER];
    const id = typeof sent === 'string' && CLIENT_ID.test(sent) ? sent : randomUUID();
    res.setHeader(REQUEST_ID_HEADER, id);
    const observation: RequestObservation = { id, sqlStatements: 0, errorCodes: [] };
    res.locals.observation = observation;
    const started = process.hrtime.bigint();
    const startedMs = Date.now();
    // Health checks and scrapes every few seconds would drown the requests that matter.
    const logged = req.url !== '/metrics' && !req.url.startsWith('/health');
    // Read now: once a client has hung up, its socket no longer knows the address.
    const remoteAddress = req.socket.remoteAddress;
    // The line is written once: when the response is sent, or when the connection closes before it is (the client went away).
    let ended = false;
    const log = () => {
      if (ended) return;
      ended = true;
      if (logged) logRequest(req, res, observation, { responseTime: Date.now() - startedMs, remoteAddress, aborted: !res.writableFinished });
    };
    res.once('finish', () => {
      const operation = operationLabel(observation.operation ?? (req.originalUrl.startsWith('/graphql') ? undefined : routeOf(req.originalUrl)));
      const status = String(res.statusCode);
      requestsTotal.inc({ operation, method: req.method, status });
      requestDuration.observe({ operation, status }, Number(process.hrtime.bigint() - started) / 1e9);
      for (const code of observation.errorCodes) errorsTotal.inc({ code });
      const cache = res.getHeader('x-mulu-response-cache');
      if (cache === 'HIT' || cache === 'MISS') responseCacheRequests.inc({ result: cache });
      log();
    });
    res.once('close', log);
    // Opens the request's scope, which later middleware (clock reads, the statement tally) add to.
    slot.open(observation, next);
  };
}

/**
 * The request's log line: info, a warning for 503, an error for any other
 * 5xx. Built only when its level is written (the level may change while the
 * server runs), so a server logging warnings and above spends nothing on the
 * lines of answered requests. The stack of what failed is logged where it was
 * caught (formatError, sendError); the line says what the client got: no
 * status when the client hung up before its answer was sent (`aborted`, at
 * info: the client's choice, and the server's work on it went on).
 */
function logRequest(
  req: Request,
  res: Response,
  observation: RequestObservation,
  { responseTime, remoteAddress, aborted }: { responseTime: number; remoteAddress: string | undefined; aborted: boolean },
): void {
  const status = res.statusCode;
  const level = aborted ? 'info' : status >= 500 ? (status === 503 ? 'warn' : 'error') : 'info';
  if (!logger.isLevelEnabled(level)) return;
  const path = pathOf(req);
  const cache = res.getHeader('x-mulu-response-cache');
  logger[level](
    {
      reqId: observation.id,
      req: { method: req.method, url: path, remoteAddress },
      res: aborted ? undefined : { statusCode: status },
      aborted: aborted || undefined,
      responseTime,
      operation: observation.operation,
      caller: observation.caller,
      sqlStatements: observation.sqlStatements,
      cache: typeof cache === 'string' ? cache : undefined,
      errorCodes: observation.errorCodes.length ? observation.errorCodes : undefined,
    },
    aborted
      ? `${req.method} ${path} closed by the client after ${responseTime} ms`
      : status >= 500
        ? `${req.method} ${path} ${status}`
        : `${req.method} ${path} ${status} ${responseTime} ms`,
  );
}

/** Records the caller of each request once the authenticator has decided who it is. */
export function observedAuthenticator(authenticator: Authenticator): Authenticator {
  return {
    ...authenticator,
    async authenticate(...args: Parameters<Authenticator['authenticate']>) {
      const viewer = await authenticator.authenticate(...args);
      const observation = slot.get();
      if (observation) observation.caller = describeCaller(viewer);
      return viewer;
    },
  };
}

/** What the log line and the metrics call a GraphQL operation: its name, or "anonymous query" / "anonymous mutation" ("anonymous operation" when there is none to tell). */
export const operationNameOf = (name: string | null | undefined, operation: { operation: string } | null | undefined) =>
  name ?? `anonymous ${operation?.operation ?? 'operation'}`;

/** Names the GraphQL operation of the request (its errors' codes are noted by formatError). */
export function observationPlugin(): ApolloServerPlugin {
  return {
    async requestDidStart({ request }) {
      const observation = slot.get();
      if (observation && request.operationName) observation.operation = request.operationName;
      return {
        async didResolveOperation({ operation, operationName }) {
          if (observation) observation.operation = operationNameOf(operationName, operation);
        },
      };
    },
  };
}

/**
 * Notes an error code the client received (formatError for GraphQL, sendError for REST). `res`: the response it
 * goes out on, where the caller has it (a body parser's error may be raised outside the request's async scope).
 */
export function observeErrorCode(code: string, res?: { locals: Record<string, unknown> }): void {
  ((res?.locals.observation as RequestObservation | undefined) ?? slot.get())?.errorCodes.push(code);
}
