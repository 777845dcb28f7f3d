import type { MikroORM } from '@mikro-orm/postgresql';
import { GraphQLError } from 'graphql';
import type { Authenticator } from '../modules/auth/authenticator';
import type { Viewer } from '../modules/auth/viewer';
import type { RequestContext } from '../request-context';
import { DATABASE_UNAVAILABLE_MESSAGE, HTTP_STATUS, isDatabaseUnavailable, MuluError, RETRY_AFTER_SECONDS } from './errors';
import { createLoaders, type Loaders } from './loaders';

/** The GraphQL context: the service context plus this request's loaders. */
export interface MuluContext extends RequestContext {
  viewer: Viewer | null;
  /** Whether requests without a token may read statistics (MULU_ANONYMOUS_STATS). */
  anonymousStats: boolean;
  loaders: Loaders;
}

/**
 * Resolves the caller once per request. A token that proves nothing fails the
 * whole request (HTTP 401, code UNAUTHENTICATED) before any resolver runs.
 */
export async function createContext(orm: MikroORM, authenticator: Authenticator, authorization?: string, identified?: Promise<Viewer | null>): Promise<MuluContext> {
  const em = orm.em.fork();
  let viewer: Viewer | null;
  try {
    // `identified`: the caller as the HTTP layer already worked it out (src/http/caller.ts).
    viewer = await (identified ?? authenticator.authenticate(authorization, em));
  } catch (error) {
    if (error instanceof MuluError) throw new GraphQLError(error.message, { extensions: { code: error.code, http: { status: 401 } } });
    // An API key is looked up in the database: while it is away the request fails as unavailable, not as a bug.
    if (isDatabaseUnavailable(error)) {
      throw new GraphQLError(DATABASE_UNAVAILABLE_MESSAGE, {
        extensions: { code: 'SERVICE_UNAVAILABLE', http: { status: HTTP_STATUS.SERVICE_UNAVAILABLE, headers: new Map([['retry-after', String(RETRY_AFTER_SECONDS)]]) } },
      });
    }
    throw error;
  }
  return { em, viewer, anonymousStats: authenticator.anonymousStats, loaders: createLoaders(em) };
}
