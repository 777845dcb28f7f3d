import type { EntityManager } from '@mikro-orm/postgresql';
import { staleAfterSql, staleSql } from '../catalogue/staleness';
import { SUPERVISION_CATEGORIES } from '../supervision/supervision.entity';
import { SubscriptionStatus } from '../subscriptions/subscription.entity';
import { statusSql } from '../subscriptions/subscription.state-machine';
import { USAGE_COLUMNS } from '../sharing/usage.service';

/** Column prefix of a supervision category in department_figures (inspection_items, ...). */
export const categoryColumn = (category: string) => category.toLowerCase();

const CATEGORY_COLUMNS = SUPERVISION_CATEGORIES.flatMap((category) => {
  const c = categoryColumn(category);
  return [`${c}_items`, `${c}_covered`, `${c}_records`];
});

/** Subscription counts of departments `d` matching `where` (granted ones lapse after their end date). */
const SUBSCRIPTION_COUNTS_SQL = (where: string) => `
  select d.id,
         (select count(*) from subscription_request s where s.requester_id = d.id and ${statusSql(SubscriptionStatus.GRANTED)}) as made,
         (select count(*) from subscription_request s where s.provider_id = d.id and ${statusSql(SubscriptionStatus.GRANTED)}) as received,
         (select count(*) from subscription_request s where s.provider_id = d.id and s.status = 'PENDING') as pending
    from department d where ${where}`;

/** Every count column of department_figures and region_figures. */
export const FIGURE_COLUMNS = [
  'published_directories', 'mounted_directories', 'data_volume', 'stale_directories', 'subscriptions_made', 'subscriptions_received', 'subscriptions_pending',
  // Usage of hosted data: added by each delivery (sharing/usage.service.ts), never recomputed here; a rebuild keeps them and re-sums the regions.
  ...USAGE_COLUMNS,
  'main_items', 'covered_main_items', ...CATEGORY_COLUMNS,
];

const CATEGORY_AGGREGATES = SUPERVISION_CATEGORIES.map((category) => {
  const c = categoryColumn(category);
  return `count(*) filter (where s.category = '${category}') as ${c}_items,
          count(*) filter (where s.category = '${category}' and s.record_count > 0) as ${c}_covered,
          coalesce(sum(s.record_count) filter (where s.category = '${category}'), 0) as ${c}_records`;
}).join(',\n');

/**
 * A condition on a department id column: a list of ids, or every department
 * (a full rebuild). Repeated inside each subquery, since PostgreSQL does not
 * push an IN-list through a join into a grouped subquery.
 */
interface Scope {
  on(column: string): string;
  /** Parameters for `uses` occurrences of `on(...)`. */
  params(uses: number): unknown[];
}
const scopeOf = (departmentIds: readonly number[] | 'all'): Scope =>
  departmentIds === 'all'
    ? { on: () => 'true', params: () => [] }
    : { on: (column) => `${column} in (?)`, params: (uses) => Array.from({ length: uses }, () => [...departmentIds]) };

/**
 * Locks the figures rows first, in id order, and only then recomputes: a
 * statement that starts after the lock sees every transaction that changed
 * the same department before, so concurrent changes never overwrite each
 * other's counts with stale ones.
 */
/** Departments recounted per transaction by refreshStaleness. */
const RECOUNT_BATCH = 200;

async function lock(em: EntityManager, departmentIds: readonly number[]): Promise<void> {
  await em.execute(`select department_id from department_figures where department_id in (?) order by department_id for no key update`, [[...departmentIds]]);
}

/**
 * Keeps `department_figures` equal to what the catalogue and supervision
 * tables imply. Services call it in the transaction of every change, after
 * the change; each call recomputes a department's section from its own rows
 * (tens to hundreds), so the figures cannot drift the way increments can.
 */
export const departmentFiguresService = {
  /** A new department starts with all figures zero. */
  async create(em: EntityManager, departmentId: number): Promise<void> {
    await em.execute(`insert into department_figures (department_id) values (?) on conflict do nothing`, [departmentId]);
  },

  /** Published and mounted directories, data volume, and when mounted data turns stale. */
  async refreshCatalogue(em: EntityManager, departmentIds: readonly number[] | 'all'): Promise<void> {
    if (departmentIds !== 'all') {
      if (departmentIds.length === 0) return;
      await lock(em, departmentIds);
    }
    const scope = scopeOf(departmentIds);
    await em.execute(
      `update resource_directory c set stale_after = ${staleAfterSql('c')}
        where ${scope.on('c.department_id')}
          and c.stale_after is distinct from ${staleAfterSql('c')}`,
      scope.params(1),
    );
    await em.execute(
      `update department_figures f
          set published_directories = x.published, mounted_directories = x.mounted, data_volume = x.volume, stale_directories = x.stale
         from (select d.id,
                      count(c.id) filter (where ${staleSql('c')}) as stale,
                      count(c.id) filter (where c.status = 'PUBLISHED') as published,
                      count(c.id) filter (where c.status = 'PUBLISHED' and c.active_mount_count > 0) as mounted,
                      coalesce(sum(c.data_volume) filter (where c.status = 'PUBLISHED' and c.active_mount_count > 0), 0) as volume
                 from department d left join resource_directory c on c.department_id = d.id
                where ${scope.on('d.id')} group by d.id) x
        where f.department_id = x.id`,
      scope.params(1),
    );
  },

  /** Main items and their coverage; sub-items, coverage and records per category. */
  async refreshSupervision(em: EntityManager, departmentIds: readonly number[] | 'all'): Promise<void> {
    if (departmentIds !== 'all') {
      if (departmentIds.length === 0) return;
      await lock(em, departmentIds);
    }
    const scope = scopeOf(departmentIds);
    const assignments = ['main_items = coalesce(m.items, 0)', 'covered_main_items = coalesce(m.covered, 0)', ...CATEGORY_COLUMNS.map((c) => `${c} = coalesce(s.${c}, 0)`)];
    await em.execute(
      `update department_figures f set ${assignments.join(', ')}
         from department d
         left join (select m.department_id, count(*) as items,
                           count(*) filter (where exists (select 1 from supervision_sub_item cs where cs.main_item_id = m.id and cs.record_count > 0)) as covered
                      from supervision_main_item m where ${scope.on('m.department_id')} group by m.department_id) m on m.department_id = d.id
         left join (select s.department_id, ${CATEGORY_AGGREGATES}
                      from supervision_sub_item s where ${scope.on('s.department_id')} group by s.department_id) s on s.department_id = d.id
        where f.department_id = d.id and ${scope.on('d.id')}`,
      scope.params(3),
    );
  },

  /**
   * Granted, live subscriptions made and received, and requests pending the
   * department's decision: after every request and transition, for both
   * departments (ids sorted, the usual lock order).
   */
  async refreshSubscriptions(em: EntityManager, departmentIds: readonly number[]): Promise<void> {
    const ids = [...new Set(departmentIds)].sort((a, b) => a - b);
    await lock(em, ids);
    await em.execute(
      `update department_figures f set subscriptions_made = x.made, subscriptions_received = x.received, subscriptions_pending = x.pending
         from (${SUBSCRIPTION_COUNTS_SQL('d.id in (?)')}) x
        where f.department_id = x.id`,
      [ids],
    );
  },

  /**
   * Time makes mounted data stale, and granted subscriptions lapse, without
   * any write: recounts both for every department whose counts the clock has
   * changed, a few hundred departments per transaction (the same lock order as
   * every other change). Every server runs it at start and then every five
   * minutes (startServer, figures-recount.ts); update cycles and end dates
   * are a day or longer, so the stored counts are never meaningfully late.
   * Returns how many departments changed.
   */
  async refreshStaleness(em: EntityManager): Promise<number> {
    const changed: { id: number }[] = await em.execute(
      `select f.department_id as id
         from department_figures f
         left join (select c.department_id, count(*) as n from resource_directory c where ${staleSql('c')} group by c.department_id) x
           on x.department_id = f.department_id
        where f.stale_directories <> coalesce(x.n, 0)
       union
       select f.department_id from department_figures f join (${SUBSCRIPTION_COUNTS_SQL('true')}) x on x.id = f.department_id
        where (f.subscriptions_made, f.subscriptions_received, f.subscriptions_pending) <> (x.made, x.received, x.pending)`,
    );
    // A few hundred departments per transaction, locked in id order as every other change locks
    // them: after a server was down for days most of a province may have changed, and one
    // transaction per department made that thousands of round trips before the server listened.
    const ids = changed.map(({ id }) => id).sort((a, b) => a - b);
    for (let i = 0; i < ids.length; i += RECOUNT_BATCH) {
      const batch = ids.slice(i, i + RECOUNT_BATCH);
      await em.fork().transactional(async (tx) => {
        await lock(tx, batch);
        await tx.execute(
          `update department_figures f set stale_directories = (select count(*) from resource_directory c where c.department_id = f.department_id and ${staleSql('c')})
            where f.department_id in (?)`,
          [batch],
        );
        await this.refreshSubscriptions(tx, batch);
      });
    }
    return changed.length;
  },

  /** A new region starts with all figures zero (its departments come later). */
  async createRegion(em: EntityManager, regionCode: string): Promise<void> {
    await em.execute(`insert into region_figures (region_code) values (?) on conflict do nothing`, [regionCode]);
  },

  /**
   * Recomputes every department's and region's figures: after a bulk load
   * that bypassed the services. (Region figures otherwise follow department
   * figures through a trigger, see the RegionFigures entity.)
   */
  async rebuildAll(em: EntityManager): Promise<void> {
    await em.execute(`insert into department_figures (department_id) select id from department on conflict do nothing`);
    await em.execute(`insert into region_figures (region_code) select code from region on conflict do nothing`);
    await this.refreshCatalogue(em, 'all');
    await this.refreshSupervision(em, 'all');
    await em.execute(
      `update department_figures f set subscriptions_made = x.made, subscriptions_received = x.received, subscriptions_pending = x.pending
         from (${SUBSCRIPTION_COUNTS_SQL('true')}) x where f.department_id = x.id`,
    );
    await em.execute(
      `update region_figures rf set ${FIGURE_COLUMNS.map((c) => `${c} = coalesce(x.${c}, 0)`).join(', ')}
         from region r
         left join (select rc.ancestor_code, ${FIGURE_COLUMNS.map((c) => `sum(f.${c}) as ${c}`).join(', ')}
                      from region_closure rc join department d on d.region_code = rc.descendant_code
                      join department_figures f on f.department_id = d.id group by rc.ancestor_code) x on x.ancestor_code = r.code
        where rf.region_code = r.code`,
    );
  },
};
