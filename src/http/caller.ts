import type { MikroORM } from '@mikro-orm/postgresql';
import type { Request, Response } from 'express';
import type { Authenticator } from '../modules/auth/authenticator';
import type { Viewer } from '../core/viewer';

const IDENTIFIED = Symbol('mulu.caller');

type Identified = Promise<Viewer | null> & { [IDENTIFIED]?: true };
type WithCaller = Request & { [IDENTIFIED]?: Identified };

/**
 * Who sent this request, worked out once: the rate limit, the bulk lane and
 * the handler (GraphQL context, REST routes) all ask, and the token is
 * verified (an API key looked up) only the first time. Rejects as the
 * authenticator does (UNAUTHENTICATED) for a token that proves nothing.
 */
export function identifyCaller(req: Request, orm: MikroORM, authenticator: Authenticator): Promise<Viewer | null> {
  const request = req as WithCaller;
  if (!request[IDENTIFIED]) {
    const identified = authenticator.authenticate(req.headers.authorization, () => orm.em.fork()) as Identified;
    // Several may wait on it, or none yet: a refusal is not an unhandled rejection.
    identified.catch(() => undefined);
    request[IDENTIFIED] = identified;
  }
  return request[IDENTIFIED];
}

/** The address a request came from (the socket's peer; Mulu trusts no forwarding header). */
export const addressOf = (req: Request) => req.socket.remoteAddress ?? 'unknown';

/**
 * Sends a refusal made before any handler ran (rate limit, bulk lane, slow
 * body) in the shape of the route: GraphQL's `{ errors: [...] }` on
 * /graphql, the REST routes' `{ error: {...} }` elsewhere. `close` ends the
 * connection after the answer, so a body still on its way is not read.
 */
export function refuse(
  req: Request,
  res: Response,
  status: number,
  code: string,
  message: string,
  options: { details?: Record<string, unknown>; headers?: Record<string, string>; close?: boolean } = {},
): void {
  if (res.headersSent) {
    req.socket.destroy();
    return;
  }
  for (const [name, value] of Object.entries(options.headers ?? {})) res.setHeader(name, value);
  if (options.close) {
    res.setHeader('connection', 'close');
    // A sender still trickling its body is cut off once the answer is out, not read to its end. The request is destroyed
    // as well, so that whatever reads its body (a bulk load's parser, inside its transaction) fails at once: Node no
    // longer tells a request whose answer was sent that its connection closed, and a load cut with 408 held its COPY,
    // pooled connection and mount lock for good (and the server's shutdown waited for it).
    res.once('finish', () => {
      req.destroy();
      req.socket.destroy();
    });
  }
  const graphql = req.baseUrl.startsWith('/graphql');
  res.status(status).json(graphql ? { errors: [{ message, extensions: { code, ...options.details } }] } : { error: { code, message, ...options.details } });
}
