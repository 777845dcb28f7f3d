import type { ApolloServerPlugin } from '@apollo/server';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { RequestHandler } from 'express';
import { RequestSlot } from '../core/request-scope';
import { responseCacheSettled } from './response-cache';

/** Response header carrying the number of SQL statements a GraphQL request sent. */
export const SQL_STATEMENTS_HEADER = 'x-mulu-sql-statements';

interface StatementTally {
  count: number;
  /** When the request reached the counter (performance.now()). */
  started: number;
  /** The longest statement's time, from sent to answered, in ms. */
  longestMs: number;
  /** This request's statements in flight, by knex's id: when each was sent. Dies with the tally, answered or not. */
  inFlight: Map<string, number>;
}

/**
 * Opt-in instrument for benchmarks (`MULU_SQL_COUNT_HEADER=1`): counts the SQL
 * statements each GraphQL request sends and returns the count in the
 * `x-mulu-sql-statements` response header, and in `Server-Timing` (which a
 * browser shows its page: the dashboard benchmark reads it) the request's
 * time in the server (`app`) and its longest statement's (`sql`).
 *
 * The express middleware gives the request its tally (in its scope, core/request-scope.ts);
 * knex's `query` event fires in the async context of whoever sent the
 * statement (a resolver, a DataLoader batch scheduled by one), so each
 * statement lands in the tally of its own request even under concurrency.
 * The Apollo plugin reads the tally once the response is ready.
 */
export function createSqlStatementCounter(orm: MikroORM): {
  middleware: RequestHandler;
  plugin: ApolloServerPlugin;
  /** The two headers for the request being served (its answer sent without Apollo: the response cache's direct path). */
  headers: () => [string, string][];
} {
  const tallies = new RequestSlot<StatementTally>();
  const knex = orm.em.getConnection().getKnex();
  // knex answers a statement in the async context of whoever sent it, like `query`: the times in flight are kept in the
  // request's own tally, so a statement that is never answered (a stream cut short) leaves nothing behind once the request ends.
  const answered = (query: { __knexQueryUid?: string }) => {
    const tally = tallies.get();
    const at = query.__knexQueryUid === undefined ? undefined : tally?.inFlight.get(query.__knexQueryUid);
    if (tally === undefined || at === undefined) return;
    tally.inFlight.delete(query.__knexQueryUid!);
    tally.longestMs = Math.max(tally.longestMs, performance.now() - at);
  };
  knex.on('query', (query: { __knexQueryUid?: string }) => {
    const tally = tallies.get();
    if (!tally) return;
    tally.count++;
    if (query.__knexQueryUid !== undefined) tally.inFlight.set(query.__knexQueryUid, performance.now());
  });
  knex.on('query-response', (_response: unknown, query: { __knexQueryUid?: string }) => answered(query));
  knex.on('query-error', (_error: unknown, query: { __knexQueryUid?: string }) => answered(query));
  const headersOf = (tally: StatementTally): [string, string][] => [
    [SQL_STATEMENTS_HEADER, String(tally.count)],
    ['server-timing', `app;dur=${(performance.now() - tally.started).toFixed(1)}, sql;dur=${tally.longestMs.toFixed(1)}`],
  ];
  return {
    middleware: (_req, _res, next) => tallies.run({ count: 0, started: performance.now(), longestMs: 0, inFlight: new Map() }, next),
    headers: () => {
      const tally = tallies.get();
      return tally ? headersOf(tally) : [];
    },
    plugin: {
      async requestDidStart() {
        return {
          async willSendResponse({ response, contextValue }) {
            const tally = tallies.get();
            // The response cache's check after execution is this request's statement too (the cache's plugin comes first).
            await responseCacheSettled(contextValue);
            if (!tally) return;
            for (const [name, value] of headersOf(tally)) response.http.headers.set(name, value);
          },
        };
      },
    },
  };
}
