import { HeaderMap, type ApolloServer, type BaseContext } from '@apollo/server';
import type { Request, RequestHandler } from 'express';
import { cutWhenStalled, DEFAULT_SEND_STALL_MS } from '../http/send-stall';

/**
 * Apollo Server behind express, as `@as-integrations/express5` runs it, but
 * the answer is written by Node itself (`res.end` with its text) instead of
 * express's `res.send`, which computed a SHA-1 ETag of every answer (a
 * conditional GET no GraphQL POST makes; a province dashboard's answer is
 * hashed in full on every request), turned the text into a Buffer and wrote
 * it apart from the headers. Node writes the headers and the text in one
 * write. Streamed answers (incremental delivery) are written as they come.
 * The body must have been parsed before (graphqlJsonBody). An answer that
 * sends nothing for `stallMs` (its client stopped reading) is cut, so that
 * its unsent text does not stay in memory for as long as the client keeps
 * the connection open.
 */
export function graphqlHandler<TContext extends BaseContext>(
  server: ApolloServer<TContext>,
  context: (req: Request) => Promise<TContext>,
  stallMs = DEFAULT_SEND_STALL_MS,
): RequestHandler {
  server.assertStarted('graphqlHandler()');
  return async (req, res) => {
    if (!('body' in req)) {
      res.status(500).send('`req.body` is not set: the JSON body parser must run before the GraphQL handler.');
      return;
    }
    const headers = new HeaderMap();
    for (const name in req.headers) {
      const value = req.headers[name];
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    const response = await server.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method.toUpperCase(), headers, search: searchOf(req.url), body: req.body },
      context: () => context(req),
    });
    for (const [name, value] of response.headers) res.setHeader(name, value);
    res.statusCode = response.status || 200;
    if (response.body.kind === 'complete') {
      const text = response.body.string;
      // Text is UTF-8 (what res.send declared for it): Apollo's JSON types say so already, its landing page does not.
      const type = res.getHeader('content-type');
      if (typeof type !== 'string') res.setHeader('content-type', 'text/html; charset=utf-8');
      else if (!/;\s*charset=/i.test(type)) res.setHeader('content-type', `${type}; charset=utf-8`);
      // Encoded once: given the text, Node would measure its UTF-8 length twice (the header, then itself) before
      // encoding it; a ranking's answer of 55 KB of Chinese names cost a tenth of a millisecond per measure.
      const body = Buffer.from(text, 'utf8');
      res.setHeader('content-length', body.length);
      cutWhenStalled(res, stallMs);
      res.end(body);
      return;
    }
    cutWhenStalled(res, stallMs);
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  };
}

/** The query string of a request URL with its "?", or "" (what `url.parse(url).search` gives, without building the whole URL). */
export function searchOf(url: string): string {
  const question = url.indexOf('?');
  if (question < 0) return '';
  const hash = url.indexOf('#', question);
  return hash < 0 ? url.slice(question) : url.slice(question, hash);
}
