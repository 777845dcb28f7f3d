import type { MikroORM } from '@mikro-orm/postgresql';
import type { Authenticator } from '../modules/auth/authenticator';
import type { Viewer } from '../core/viewer';
import type { LiveUpdates } from '../modules/notifications/live-updates';
import type { RequestContext } from '../core/request-context';
import { databaseUnavailableMessage, isDatabaseUnavailable, MuluError, serviceUnavailable } from '../core/errors';
import { toHttpGraphQLError } from './format-error';
import { createLoaders, type Loaders } from './loaders';
import { newDeadline, type RequestDeadline } from './execution-budget';

/** The GraphQL context: the service context plus this request's loaders. */
export interface MuluContext extends RequestContext {
  viewer: Viewer | null;
  /** Whether requests without a token may read statistics (MULU_ANONYMOUS_STATS). */
  anonymousStats: boolean;
  loaders: Loaders;
  /** Set once the request's time is up (MULU_REQUEST_TIMEOUT_MS): no further field is resolved (execution-budget.ts). */
  deadline: RequestDeadline;
  /** The server's streams for GraphQL subscriptions (set on WebSocket operations only, src/graphql/websocket.ts). */
  live?: LiveUpdates;
}

/**
 * Resolves the caller once per request. A token that proves nothing fails the
 * whole request (HTTP 401, code UNAUTHENTICATED) before any resolver runs.
 */
export async function createContext(
  orm: MikroORM,
  authenticator: Authenticator,
  authorization?: string,
  identified?: Promise<Viewer | null>,
): Promise<MuluContext> {
  const em = orm.em.fork();
  let viewer: Viewer | null;
  try {
    // `identified`: the caller as the HTTP layer already worked it out (src/http/caller.ts).
    viewer = await (identified ?? authenticator.authenticate(authorization, em));
  } catch (error) {
    if (error instanceof MuluError) throw toHttpGraphQLError(error);
    // An API key is looked up in the database: while it is away the request fails as unavailable, not as a bug.
    if (isDatabaseUnavailable(error)) throw toHttpGraphQLError(serviceUnavailable(databaseUnavailableMessage(error)));
    throw error;
  }
  const context = Object.create(loadersOnDemand) as MuluContext;
  context.em = em;
  context.viewer = viewer;
  context.anonymousStats = authenticator.anonymousStats;
  context.deadline = newDeadline();
  return context;
}

const LOADERS = Symbol('loaders');

/**
 * The loaders (every DataLoader of the request) are made when a resolver
 * first asks: an answer served from the response cache, or `{ __typename }`,
 * needs none. The getter sits on the context's prototype: Apollo hands the
 * resolvers a copy of the context (`Object.assign` of its own properties),
 * which would call a getter of the context itself and make them all.
 */
const loadersOnDemand = {
  get loaders(): Loaders {
    const self = this as unknown as MuluContext & { [LOADERS]?: Loaders };
    return (self[LOADERS] ??= createLoaders(self.em));
  },
};
