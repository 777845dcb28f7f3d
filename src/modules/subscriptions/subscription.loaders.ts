import type { EntityManager } from '@mikro-orm/postgresql';
import { pagedChildrenLoader, rowLoader } from '../../graphql/loader-factories';
import { subscriptionService, type SubscriptionFilter } from './subscription.service';

export function createSubscriptionLoaders(em: EntityManager) {
  return {
    subscriptionRequestById: rowLoader(
      (ids: readonly number[]) => subscriptionService.byIds(em, ids),
      (r) => r.id,
    ),
    subscriptionsMadeBy: pagedChildrenLoader(
      (ids: readonly number[], page, filter: SubscriptionFilter) => subscriptionService.requestsOf(em, 'requester', ids, page, filter),
      (r) => r.requester.id,
    ),
    subscriptionsReceivedBy: pagedChildrenLoader(
      (ids: readonly number[], page, filter: SubscriptionFilter) => subscriptionService.requestsOf(em, 'provider', ids, page, filter),
      (r) => r.provider.id,
    ),
  };
}
