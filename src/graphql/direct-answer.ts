import type { Request, Response } from 'express';
import { cutWhenStalled } from '../http/send-stall';

/**
 * What the two paths that answer a GraphQL request before Apollo share
 * (the response cache's stored answers, response-cache.ts, and the row
 * page, modules/sharing/row-page.direct.ts): which requests are plainly
 * such a request, and how an answer is written, as Apollo's path writes it
 * (express-handler.ts).
 */

/**
 * The content type Apollo answers a POSTed JSON request with, for the
 * `Accept` headers whose answer is plain (none, any, JSON, or GraphQL's own
 * response type alone); undefined for anything else, which Apollo
 * negotiates itself. Apollo's CSRF check passes any request sent as
 * application/json.
 */
export function plainAnswerContentType(req: Request): string | undefined {
  if (req.method !== 'POST' || !/^application\/json\s*(;|$)/i.test(req.headers['content-type'] ?? '')) return undefined;
  const accept = req.headers.accept?.trim();
  if (accept === undefined || accept === '' || accept === '*/*' || /^application\/json(\s*;\s*charset=utf-8)?$/i.test(accept))
    return 'application/json; charset=utf-8';
  if (/^application\/graphql-response\+json(\s*;\s*charset=utf-8)?$/i.test(accept)) return 'application/graphql-response+json; charset=utf-8';
  return undefined;
}

/** A parsed body that is one GraphQL request as the paths before Apollo take it. */
export interface PlainGraphQLRequest {
  query: string;
  operationName: string | null | undefined;
  variables: Record<string, unknown> | null | undefined;
}

/**
 * The request in a parsed JSON body when it is one plain GraphQL request: a
 * text document, a text operation name or none, variables as an object or
 * none, and no `extensions` (a persisted query, anything Apollo must read).
 * Undefined for anything else (a batch, other types), which Apollo answers.
 */
export function plainGraphQLRequest(body: unknown): PlainGraphQLRequest | undefined {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const { query, operationName, variables, extensions } = body as Record<string, unknown>;
  if (typeof query !== 'string') return undefined;
  if (operationName != null && typeof operationName !== 'string') return undefined;
  if (variables != null && (typeof variables !== 'object' || Array.isArray(variables))) return undefined;
  if (extensions != null) return undefined;
  return { query, operationName: operationName as string | null | undefined, variables: variables as Record<string, unknown> | null | undefined };
}

/** Writes an answer's bytes with its status and headers in one write, and cuts it if the client stops reading for `stallMs`. */
export function sendAnswer(res: Response, status: number, contentType: string, headers: Iterable<[string, string]>, bytes: Buffer, stallMs: number): void {
  res.statusCode = status;
  res.setHeader('content-type', contentType);
  for (const [name, value] of headers) res.setHeader(name, value);
  res.setHeader('content-length', bytes.length);
  cutWhenStalled(res, stallMs);
  res.end(bytes);
}
