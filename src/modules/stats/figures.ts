import { staleSql } from '../catalogue/staleness';
import { SUPERVISION_CATEGORIES } from '../supervision/supervision.entity';
import { SubscriptionStatus } from '../subscriptions/subscription.entity';
import { statusSql } from '../subscriptions/subscription.state-machine';
import { USAGE_FIGURES } from '../sharing/usage.service';

/**
 * The stored figures: one declaration per figure. Everything else is derived
 * from this list: the columns of department_figures and region_figures (the
 * FigureColumns entity), the statements that recount them
 * (department-figures.service.ts), the trigger that sums them into regions
 * (a migration written by `npm run figures:migration`), the readers
 * (figuresOf) and the benchmark's floors. Adding a figure is one entry here
 * plus a generated migration: docs/architecture.md, "Figures".
 */

/**
 * Which changes move a figure: the unit of work recounts a section for the
 * departments a mutation touched (figures.subscriber.ts).
 */
export type FigureSection = 'catalogue' | 'supervision' | 'subscriptions';

/** Rows a figure is an aggregate of, grouped by department; `alias` names a row in `count`. */
export interface FigureSource {
  section: FigureSection;
  table: string;
  alias: string;
  /** Column of the row naming its department. */
  departmentColumn: string;
}

export const SOURCES = {
  directories: { section: 'catalogue', table: 'resource_directory', alias: 'c', departmentColumn: 'department_id' },
  mainItems: { section: 'supervision', table: 'supervision_main_item', alias: 'm', departmentColumn: 'department_id' },
  subItems: { section: 'supervision', table: 'supervision_sub_item', alias: 's', departmentColumn: 'department_id' },
} as const satisfies Record<string, FigureSource>;

export interface Figure {
  /** Column in department_figures and region_figures (snake_case); the entity property is its camelCase. */
  column: string;
  /** bigint for sums that may pass 2^31 (record counts, data volume); integer otherwise. */
  type: 'integer' | 'bigint';
  /**
   * The section whose changes recount it; absent for a figure that is added
   * to as events happen and never recounted (usage of hosted data: each
   * delivery is added by the usage fold, sharing/usage-fold.ts). Such a figure has no `count`.
   */
  section?: FigureSection;
  /**
   * How one department's value is counted: an aggregate over the rows of
   * `source` (e.g. `count(*) filter (where c.status = 'PUBLISHED')`), or,
   * without a source, a scalar expression on the department row `d`.
   */
  source?: FigureSource;
  count?: string;
  description: string;
}

/** A figure recounted from rows. */
export interface CountedFigure extends Figure {
  section: FigureSection;
  count: string;
}

const directories = SOURCES.directories;
const published = `c.status = 'PUBLISHED'`;
const mounted = `${published} and c.active_mount_count > 0`;
const granted = statusSql(SubscriptionStatus.GRANTED);

/** Column prefix of a supervision category (inspection_items, ...). */
export const categoryColumn = (category: string) => category.toLowerCase();

export const FIGURES: readonly Figure[] = [
  {
    column: 'published_directories',
    type: 'integer',
    section: 'catalogue',
    source: directories,
    count: `count(*) filter (where ${published})`,
    description: 'Published directories.',
  },
  {
    column: 'mounted_directories',
    type: 'integer',
    section: 'catalogue',
    source: directories,
    count: `count(*) filter (where ${mounted})`,
    description: 'Published directories with an active mount (已挂载).',
  },
  {
    column: 'data_volume',
    type: 'bigint',
    section: 'catalogue',
    source: directories,
    count: `coalesce(sum(c.data_volume) filter (where ${mounted}), 0)`,
    description: 'Records mounted on published directories.',
  },
  {
    column: 'stale_directories',
    type: 'integer',
    section: 'catalogue',
    source: directories,
    count: `count(*) filter (where ${staleSql('c')})`,
    description: 'Mounted directories whose data is stale; the clock moves it too (departmentFiguresService.refreshStaleness).',
  },
  {
    column: 'subscriptions_made',
    type: 'integer',
    section: 'subscriptions',
    count: `(select count(*) from subscription_request s where s.requester_id = d.id and ${granted})`,
    description: 'Granted, live subscriptions the unit made (订阅量).',
  },
  {
    column: 'subscriptions_received',
    type: 'integer',
    section: 'subscriptions',
    count: `(select count(*) from subscription_request s where s.provider_id = d.id and ${granted})`,
    description: "Granted, live subscriptions to the unit's directories (被订阅量).",
  },
  {
    column: 'subscriptions_pending',
    type: 'integer',
    section: 'subscriptions',
    count: `(select count(*) from subscription_request s where s.provider_id = d.id and s.status = 'PENDING')`,
    description: "Requests waiting for the unit's decision as provider.",
  },
  ...USAGE_FIGURES,
  {
    column: 'main_items',
    type: 'integer',
    section: 'supervision',
    source: SOURCES.mainItems,
    count: 'count(*)',
    description: 'Supervision main items (监管主项).',
  },
  {
    column: 'covered_main_items',
    type: 'integer',
    section: 'supervision',
    source: SOURCES.mainItems,
    count: 'count(*) filter (where exists (select 1 from supervision_sub_item cs where cs.main_item_id = m.id and cs.record_count > 0))',
    description: 'Main items with at least one sub-item that has records.',
  },
  ...SUPERVISION_CATEGORIES.flatMap((category): Figure[] => {
    const c = categoryColumn(category);
    const source = SOURCES.subItems;
    return [
      {
        column: `${c}_items`,
        type: 'integer',
        section: 'supervision',
        source,
        count: `count(*) filter (where s.category = '${category}')`,
        description: `Sub-items of category ${category}.`,
      },
      {
        column: `${c}_covered`,
        type: 'integer',
        section: 'supervision',
        source,
        count: `count(*) filter (where s.category = '${category}' and s.record_count > 0)`,
        description: `Sub-items of category ${category} with records.`,
      },
      {
        column: `${c}_records`,
        type: 'bigint',
        section: 'supervision',
        source,
        count: `coalesce(sum(s.record_count) filter (where s.category = '${category}'), 0)`,
        description: `Records of sub-items of category ${category}.`,
      },
    ];
  }),
];

/** The figures recounted from rows (all but those added to as events happen). */
export const COUNTED_FIGURES: readonly CountedFigure[] = FIGURES.filter(
  (figure): figure is CountedFigure => figure.section !== undefined && figure.count !== undefined,
);

/** Every figure column, in declaration order. */
export const FIGURE_COLUMNS: readonly string[] = FIGURES.map((figure) => figure.column);

/** The entity property of a figure column: published_directories -> publishedDirectories. */
export const propertyOf = (column: string) => column.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());

/** The figures of one section. */
export const figuresOf = (section: FigureSection): CountedFigure[] =>
  FIGURES.filter((figure): figure is CountedFigure => figure.section === section && figure.count !== undefined);

/**
 * A select of `d.id` and the named figures of every department matching
 * `scope('d.id')`, counted from the rows: each source aggregated once per
 * department. `scope(column)` is repeated inside each source, since
 * PostgreSQL does not push an IN-list through a join into a grouped
 * subquery; `scopes` says how many times it appears.
 */
export function countFiguresSql(figures: readonly CountedFigure[], scope: (column: string) => string): { sql: string; scopes: number } {
  const sources = [...new Set(figures.map((figure) => figure.source).filter((source): source is FigureSource => source != null))];
  const joins = sources.map((source) => {
    const own = figures.filter((figure) => figure.source === source);
    const key = `${source.alias}.${source.departmentColumn}`;
    return `left join (select ${key} as department_id, ${own.map((figure) => `${figure.count} as ${figure.column}`).join(', ')}
                   from ${source.table} ${source.alias} where ${scope(key)} group by ${key}) ${source.alias}_x on ${source.alias}_x.department_id = d.id`;
  });
  const values = figures.map((figure) => `${figure.source ? `coalesce(${figure.source.alias}_x.${figure.column}, 0)` : figure.count} as ${figure.column}`);
  return { sql: `select d.id, ${values.join(', ')} from department d ${joins.join('\n')} where ${scope('d.id')}`, scopes: sources.length + 1 };
}

/** Recounts the figures of one section for the departments in scope (see countFiguresSql): one statement. */
export function recountSectionSql(section: FigureSection, scope: (column: string) => string): { sql: string; scopes: number } {
  const figures = figuresOf(section);
  const counted = countFiguresSql(figures, scope);
  const sql = `update department_figures f set ${figures.map((figure) => `${figure.column} = x.${figure.column}`).join(', ')}
    from (${counted.sql}) x
   where f.department_id = x.id`;
  return { sql, scopes: counted.scopes };
}

/** The trigger function that adds each change of a department's figures to the figures of its regions and their ancestors. */
export function regionFiguresTriggerSql(columns: readonly string[] = FIGURE_COLUMNS): string {
  return `create or replace function region_figures_follow() returns trigger language plpgsql as $$
      declare
        ancestor varchar(6);
      begin
        for ancestor in
          select rc.ancestor_code from department d join region_closure rc on rc.descendant_code = d.region_code
           where d.id = new.department_id order by rc.ancestor_code
        loop
          update region_figures set
          ${columns.map((c) => `${c} = ${c} + new.${c} - old.${c}`).join(',\n          ')}
          where region_code = ancestor;
        end loop;
        return null;
      end $$;`;
}
