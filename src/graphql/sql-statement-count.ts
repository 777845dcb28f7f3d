import type { ApolloServerPlugin } from '@apollo/server';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { RequestHandler } from 'express';
import { RequestSlot } from '../core/request-scope';
import { responseCacheSettled } from './response-cache';

/** Response header carrying the number of SQL statements a GraphQL request sent. */
export const SQL_STATEMENTS_HEADER = 'x-mulu-sql-statements';

interface StatementTally {
  count: number;
}

/**
 * Opt-in instrument for benchmarks (`MULU_SQL_COUNT_HEADER=1`): counts the SQL
 * statements each GraphQL request sends and returns the count in the
 * `x-mulu-sql-statements` response header.
 *
 * The express middleware gives the request its tally (in its scope, core/request-scope.ts);
 * knex's `query` event fires in the async context of whoever sent the
 * statement (a resolver, a DataLoader batch scheduled by one), so each
 * statement lands in the tally of its own request even under concurrency.
 * The Apollo plugin reads the tally once the response is ready.
 */
export function createSqlStatementCounter(orm: MikroORM): { middleware: RequestHandler; plugin: ApolloServerPlugin } {
  const tallies = new RequestSlot<StatementTally>();
  orm.em
    .getConnection()
    .getKnex()
    .on('query', () => {
      const tally = tallies.get();
      if (tally) tally.count++;
    });
  return {
    middleware: (_req, _res, next) => tallies.run({ count: 0 }, next),
    plugin: {
      async requestDidStart() {
        return {
          async willSendResponse({ response, contextValue }) {
            const tally = tallies.get();
            // The response cache's check after execution is this request's statement too (the cache's plugin comes first).
            await responseCacheSettled(contextValue);
            if (tally) response.http.headers.set(SQL_STATEMENTS_HEADER, String(tally.count));
          },
        };
      },
    },
  };
}
