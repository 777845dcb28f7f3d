import type { EntityManager } from '@mikro-orm/postgresql';
import { toSafeNumber } from '../../graphql/scalars';

/** Subscription figures of one unit (a department or a region). */
export interface SubscriptionCounts {
  /** Granted, live subscriptions the unit made (订阅量). */
  made: number;
  /** Granted, live subscriptions to the unit's directories (被订阅量). */
  received: number;
  /** Requests waiting for the unit's decision as provider. */
  pending: number;
}

export const EMPTY_SUBSCRIPTION_COUNTS: SubscriptionCounts = { made: 0, received: 0, pending: 0 };

interface CountRow {
  key: string | number;
  made: string;
  received: string;
  pending: string;
}

function byKey<K extends string | number>(keys: readonly K[], rows: CountRow[], normalise: (key: CountRow['key']) => K): Map<K, SubscriptionCounts> {
  const map = new Map<K, SubscriptionCounts>(keys.map((key) => [key, EMPTY_SUBSCRIPTION_COUNTS]));
  for (const row of rows) map.set(normalise(row.key), { made: toSafeNumber(row.made), received: toSafeNumber(row.received), pending: toSafeNumber(row.pending) });
  return map;
}

/**
 * Subscription figures read from department_figures and region_figures,
 * kept by every request and transition (and, for lapsing, as time passes:
 * departmentFiguresService.refreshStaleness).
 */
export const subscriptionStatsService = {
  /** Figures of many departments, one statement. */
  async forDepartments(em: EntityManager, departmentIds: readonly number[]): Promise<Map<number, SubscriptionCounts>> {
    const rows: CountRow[] = await em.execute(
      `select f.department_id as key, f.subscriptions_made as made, f.subscriptions_received as received, f.subscriptions_pending as pending
         from department_figures f where f.department_id in (?)`,
      [[...departmentIds]],
    );
    return byKey(departmentIds, rows, Number);
  },

  /** Figures of many regions, one statement: each region's row sums its departments at any depth. */
  async forRegions(em: EntityManager, regionCodes: readonly string[]): Promise<Map<string, SubscriptionCounts>> {
    const rows: CountRow[] = await em.execute(
      `select f.region_code as key, f.subscriptions_made as made, f.subscriptions_received as received, f.subscriptions_pending as pending
         from region_figures f where f.region_code in (?)`,
      [[...regionCodes]],
    );
    return byKey(regionCodes, rows, String);
  },
};
