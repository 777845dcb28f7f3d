import type { EntityManager } from '@mikro-orm/postgresql';
import type { Viewer } from './viewer';

/**
 * What a service needs to know about the request it serves. Built once per
 * request; the entity manager is a fork, so no identity map is shared between
 * requests.
 */
export interface RequestContext {
  em: EntityManager;
  /** Who is calling; absent or null for an anonymous request, which services refuse to let write. */
  viewer?: Viewer | null;
}
