import type { EntityManager } from '@mikro-orm/postgresql';

/**
 * What a service needs to know about the request it serves. Built once per
 * request; the entity manager is a fork, so no identity map is shared between
 * requests.
 */
export interface RequestContext {
  em: EntityManager;
}
