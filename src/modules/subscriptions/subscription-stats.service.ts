import type { EntityManager } from '@mikro-orm/postgresql';
import { toSafeNumber } from '../../graphql/scalars';
import { statusSql } from './subscription.state-machine';
import { SubscriptionStatus } from './subscription.entity';

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

/**
 * Each request counts once for its requester (made) and once for its
 * provider (received, pending): two grouped scans on the (requester, status)
 * and (provider, status) indexes, one row per department and side. `where`
 * narrows each side to departments (a condition on column `dept`).
 */
function sidesSql(where: (column: string) => string): string {
  return `select s.requester_id as department_id, count(*) filter (where ${statusSql(SubscriptionStatus.GRANTED)}) as made, 0 as received, 0 as pending
            from subscription_request s where s.status in ('GRANTED', 'PENDING') and ${where('s.requester_id')} group by s.requester_id
          union all
          select s.provider_id, 0, count(*) filter (where ${statusSql(SubscriptionStatus.GRANTED)}), count(*) filter (where s.status = 'PENDING')
            from subscription_request s where s.status in ('GRANTED', 'PENDING') and ${where('s.provider_id')} group by s.provider_id`;
}

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

export const subscriptionStatsService = {
  /** Figures of many departments, one statement. */
  async forDepartments(em: EntityManager, departmentIds: readonly number[]): Promise<Map<number, SubscriptionCounts>> {
    const ids = [...departmentIds];
    const rows: CountRow[] = await em.execute(
      `select x.department_id as key, sum(x.made) as made, sum(x.received) as received, sum(x.pending) as pending
         from (${sidesSql((column) => `${column} in (?)`)}) x group by x.department_id`,
      [ids, ids],
    );
    return byKey(departmentIds, rows, Number);
  },

  /** Figures of many regions, one statement: each sums its departments at any depth (region_closure). */
  async forRegions(em: EntityManager, regionCodes: readonly string[]): Promise<Map<string, SubscriptionCounts>> {
    const rows: CountRow[] = await em.execute(
      `select rc.ancestor_code as key, sum(x.made) as made, sum(x.received) as received, sum(x.pending) as pending
         from region_closure rc
         join department d on d.region_code = rc.descendant_code
         join (${sidesSql(() => 'true')}) x on x.department_id = d.id
        where rc.ancestor_code in (?) group by rc.ancestor_code`,
      [[...regionCodes]],
    );
    return byKey(regionCodes, rows, String);
  },
};
