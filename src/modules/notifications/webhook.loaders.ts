import type { EntityManager } from '@mikro-orm/postgresql';
import { pagedChildrenLoader, rowLoader } from '../../graphql/loader-factories';
import { webhookService } from './webhook.service';

export function createWebhookLoaders(em: EntityManager) {
  return {
    deliveriesOfWebhook: pagedChildrenLoader(
      (ids: readonly number[], page, _filter: null) => webhookService.deliveriesOf(em, ids, page),
      (d) => d.webhook.id,
    ),
    notificationEventById: rowLoader(
      (ids: readonly number[]) => webhookService.eventsByIds(em, ids),
      (e) => e.id,
    ),
  };
}
