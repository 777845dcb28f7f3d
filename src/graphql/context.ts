import type { MikroORM } from '@mikro-orm/postgresql';
import type { Authenticator } from '../modules/auth/authenticator';
import type { Viewer } from '../modules/auth/viewer';
import type { RequestContext } from '../request-context';
import { MuluError, toHttpGraphQLError } from './errors';
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
export async function createContext(orm: MikroORM, authenticator: Authenticator, authorization?: string): Promise<MuluContext> {
  const em = orm.em.fork();
  let viewer: Viewer | null;
  try {
    viewer = await authenticator.authenticate(authorization, em);
  } catch (error) {
    if (error instanceof MuluError) throw toHttpGraphQLError(error);
    throw error;
  }
  return { em, viewer, anonymousStats: authenticator.anonymousStats, loaders: createLoaders(em) };
}
