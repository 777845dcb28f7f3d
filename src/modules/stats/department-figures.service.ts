import type { EntityManager } from '@mikro-orm/postgresql';
import { staleAfterSql, staleSql } from '../catalogue/staleness';
import { FIGURE_COLUMNS, figuresOf, recountSectionSql, type FigureSection } from './figures';
import { liftStatementTimeout, withoutStatementTimeout } from '../../db/statement-timeout';

/** Subscription counts of departments `d` matching `where`, named by their columns (granted ones lapse after their end date). */
const SUBSCRIPTION_COUNTS_SQL = (where: string) =>
  `select d.id, ${figuresOf('subscriptions')
    .map((figure) => `${figure.count} as ${figure.column}`)
    .join(', ')} from department d where ${where}`;
const SUBSCRIPTION_COLUMNS = figuresOf('subscriptions').map((figure) => figure.column);

export { FIGURE_COLUMNS };

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

/** Departments recounted per transaction by refreshStaleness. */
const RECOUNT_BATCH = 200;

/** Recounts one section of the figures (figures.ts) for the departments in scope, one statement. */
async function recount(em: EntityManager, section: FigureSection, scope: Scope): Promise<void> {
  const { sql, scopes } = recountSectionSql(section, (column) => scope.on(column));
  await em.execute(sql, scope.params(scopes));
}

/**
 * Locks the figures rows first, in id order, and only then recomputes: a
 * statement that starts after the lock sees every transaction that changed
 * the same department before, so concurrent changes never overwrite each
 * other's counts with stale ones.
 */
async function lock(em: EntityManager, departmentIds: readonly number[]): Promise<void> {
  await em.execute(`select department_id from department_figures where department_id in (?) order by department_id for no key update`, [[...departmentIds]]);
}

/**
 * Keeps `department_figures` equal to what the catalogue, subscription and
 * supervision tables imply. The unit of work calls it in the transaction of
 * every mutation, after its last flush (figures.subscriber.ts); bulk imports
 * that write by SQL call it themselves. Each call recomputes a department's
 * section from its own rows (tens to hundreds), so the figures cannot drift
 * the way increments can.
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
    await recount(em, 'catalogue', scope);
  },

  /** Main items and their coverage; sub-items, coverage and records per category. */
  async refreshSupervision(em: EntityManager, departmentIds: readonly number[] | 'all'): Promise<void> {
    if (departmentIds !== 'all') {
      if (departmentIds.length === 0) return;
      await lock(em, departmentIds);
    }
    const scope = scopeOf(departmentIds);
    await recount(em, 'supervision', scope);
  },

  /**
   * Granted, live subscriptions made and received, and requests pending the
   * department's decision: after every request and transition, for both
   * departments (ids sorted, the usual lock order).
   */
  async refreshSubscriptions(em: EntityManager, departmentIds: readonly number[]): Promise<void> {
    const ids = [...new Set(departmentIds)].sort((a, b) => a - b);
    if (ids.length === 0) return;
    await lock(em, ids);
    await recount(em, 'subscriptions', scopeOf(ids));
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
    // A job (at start, every five minutes, before a capture): a province's scan may outlast a request's statement timeout.
    const changed: { id: number }[] = await withoutStatementTimeout(em, (tx) =>
      tx.execute(
        `select f.department_id as id
         from department_figures f
         left join (select c.department_id, count(*) as n from resource_directory c where ${staleSql('c')} group by c.department_id) x
           on x.department_id = f.department_id
        where f.stale_directories <> coalesce(x.n, 0)
       union
       select f.department_id from department_figures f join (${SUBSCRIPTION_COUNTS_SQL('true')}) x on x.id = f.department_id
        where (${SUBSCRIPTION_COLUMNS.map((c) => `f.${c}`).join(', ')}) <> (${SUBSCRIPTION_COLUMNS.map((c) => `x.${c}`).join(', ')})`,
      ),
    );
    // A few hundred departments per transaction, locked in id order as every other change locks
    // them: after a server was down for days most of a province may have changed, and one
    // transaction per department made that thousands of round trips before the server listened.
    const ids = changed.map(({ id }) => id).sort((a, b) => a - b);
    for (let i = 0; i < ids.length; i += RECOUNT_BATCH) {
      const batch = ids.slice(i, i + RECOUNT_BATCH);
      await em.fork().transactional(async (tx) => {
        await liftStatementTimeout(tx);
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
    await recount(em, 'subscriptions', scopeOf('all'));
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
