import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import { pagedChildrenLoader, rowLoader } from '../../graphql/loader-factories';
import { EMPTY_SUBSCRIPTION_COUNTS, subscriptionStatsService, type SubscriptionCounts } from './subscription-stats.service';
import { subscriptionService, type SubscriptionFilter } from './subscription.service';

export function createSubscriptionLoaders(em: EntityManager) {
  return {
    subscriptionRequestById: rowLoader((ids: readonly number[]) => subscriptionService.byIds(em, ids), (r) => r.id),
    subscriptionsMadeBy: pagedChildrenLoader(
      (ids: readonly number[], page, filter: SubscriptionFilter) => subscriptionService.requestsOf(em, 'requester', ids, page, filter),
      (r) => r.requester.id,
    ),
    subscriptionsReceivedBy: pagedChildrenLoader(
      (ids: readonly number[], page, filter: SubscriptionFilter) => subscriptionService.requestsOf(em, 'provider', ids, page, filter),
      (r) => r.provider.id,
    ),
    subscriptionStatsOfDepartment: new DataLoader<number, SubscriptionCounts>(async (ids) => {
      const stats = await subscriptionStatsService.forDepartments(em, ids);
      return ids.map((id) => stats.get(id) ?? EMPTY_SUBSCRIPTION_COUNTS);
    }),
    subscriptionStatsOfRegion: new DataLoader<string, SubscriptionCounts>(async (codes) => {
      const stats = await subscriptionStatsService.forRegions(em, codes);
      return codes.map((code) => stats.get(code) ?? EMPTY_SUBSCRIPTION_COUNTS);
    }),
  };
}
