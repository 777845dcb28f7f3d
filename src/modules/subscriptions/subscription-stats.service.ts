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
 * provider (received, pending): the lateral join gives every request one row
 * per side, so one grouped statement serves a whole batch of departments.
 */
const SIDES = `cross join lateral (values (s.requester_id, 'made'), (s.provider_id, 'received')) as side(department_id, role)`;
const AGGREGATES = `
  count(*) filter (where side.role = 'made' and ${statusSql(SubscriptionStatus.GRANTED)}) as made,
  count(*) filter (where side.role = 'received' and ${statusSql(SubscriptionStatus.GRANTED)}) as received,
  count(*) filter (where side.role = 'received' and s.status = 'PENDING') as pending`;

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
  /** Figures of many departments, one grouped statement. */
  async forDepartments(em: EntityManager, departmentIds: readonly number[]): Promise<Map<number, SubscriptionCounts>> {
    const ids = [...departmentIds];
    const rows: CountRow[] = await em.execute(
      `select side.department_id as key, ${AGGREGATES}
         from subscription_request s ${SIDES}
        where (s.requester_id in (?) or s.provider_id in (?)) and side.department_id in (?)
        group by side.department_id`,
      [ids, ids, ids],
    );
    return byKey(departmentIds, rows, Number);
  },

  /** Figures of many regions, one grouped statement: each sums its departments at any depth (region_closure). */
  async forRegions(em: EntityManager, regionCodes: readonly string[]): Promise<Map<string, SubscriptionCounts>> {
    const rows: CountRow[] = await em.execute(
      `select rc.ancestor_code as key, ${AGGREGATES}
         from region_closure rc
         join department d on d.region_code = rc.descendant_code
         join subscription_request s on s.requester_id = d.id or s.provider_id = d.id
         ${SIDES}
        where rc.ancestor_code in (?) and side.department_id = d.id
        group by rc.ancestor_code`,
      [[...regionCodes]],
    );
    return byKey(regionCodes, rows, String);
  },
};
