import type { ApolloServerPlugin } from '@apollo/server';
import { httpHeadersFor, httpStatusFor, httpStatusForCodes } from '../core/errors';

/**
 * Gives a GraphQL request that failed as a whole (an answer without `data`:
 * not signed in, not allowed, refused by a limit, unparseable) the HTTP
 * status its error code means, from the one table in errors.ts, with
 * `Retry-After` where the error says when to come back. Apollo would answer
 * 500 for any error thrown before execution. An answer with `data` stays 200,
 * field errors and all (GraphQL-over-HTTP), except when the database is away:
 * any SERVICE_UNAVAILABLE makes it 503 with `Retry-After`, so that load
 * balancers and clients retry instead of taking a 200 as success.
 */
export function httpStatusPlugin(): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response }) {
          if (response.body.kind !== 'single') return;
          const result = response.body.singleResult;
          if (!result.errors?.length) return;
          if (result.data !== undefined) {
            const unavailable = result.errors.find((error) => error.extensions?.code === 'SERVICE_UNAVAILABLE');
            if (!unavailable) return;
            response.http.status = httpStatusFor('SERVICE_UNAVAILABLE');
            for (const [name, value] of Object.entries(httpHeadersFor(unavailable.extensions))) response.http.headers.set(name, value);
            return;
          }
          response.http.status = httpStatusForCodes(result.errors.map((error) => error.extensions?.code as string | undefined));
          for (const [name, value] of Object.entries(httpHeadersFor(result.errors[0].extensions))) response.http.headers.set(name, value);
        },
      };
    },
  };
}
