import type { EntityManager } from '@mikro-orm/postgresql';
import { createDirectoryLoaders } from '../modules/catalogue/directory.loaders';
import { createDepartmentLoaders } from '../modules/departments/department.loaders';
import { createMountLoaders } from '../modules/mounts/mount.loaders';
import { createRegionLoaders } from '../modules/regions/region.loaders';
import { createStatsLoaders } from '../modules/stats/stats.loaders';
import { figureValuesSql } from '../modules/stats/figures.service';
import { createSubscriptionLoaders } from '../modules/subscriptions/subscription.loaders';
import { createSupervisionLoaders } from '../modules/supervision/supervision.loaders';
import { createRankingLoaders } from '../modules/stats/ranking.loaders';
import { createReportLoaders } from '../modules/reports/report.loaders';
import { createWebhookLoaders } from '../modules/notifications/webhook.loaders';
import { createSharingLoaders } from '../modules/sharing/sharing.loaders';

/**
 * Every loader of one request. Built fresh per request: a shared loader
 * would cache one user's view for the next.
 */
export function createLoaders(em: EntityManager) {
  const stats = createStatsLoaders(em);
  return {
    // Regions are read with their stored figures, as the statistics module reads them (regions sit below it).
    ...createRegionLoaders(em, figureValuesSql),
    ...createDepartmentLoaders(em),
    ...createDirectoryLoaders(em),
    ...createMountLoaders(em),
    ...stats,
    ...createSubscriptionLoaders(em),
    ...createSupervisionLoaders(em),
    // A ranking reads its units' figures with them; they stay with the ranked rows (stats.loaders.ts).
    ...createRankingLoaders(em, stats),
    ...createReportLoaders(em),
    ...createWebhookLoaders(em),
    ...createSharingLoaders(em),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
