import type { EntityManager } from '@mikro-orm/postgresql';
import { toSafeNumber } from '../../core/numbers';
import type { Viewer } from '../../core/viewer';
import type { SharingRoute } from './dataset.entity';
import { executePrepared } from '../../db/prepared';

/** Use of hosted data by other departments (资源使用 / 被使用), for a directory, or a unit on one side. */
export interface UsageCounts {
  /** Deliveries (one per request: a page, an export). */
  requests: number;
  /** Rows those deliveries carried. */
  rowsDelivered: number;
  /** As provider: departments that received the data (per providing department, summed over a region). As consumer: departments of the unit that received other departments' data. */
  consumers: number;
}

export const EMPTY_USAGE: UsageCounts = { requests: 0, rowsDelivered: 0, consumers: 0 };

/** A unit's use of hosted data on both sides. */
export interface UsageFigures {
  /** Its data used by other departments (资源被使用). */
  provided: UsageCounts;
  /** Other departments' data it used (资源使用). */
  used: UsageCounts;
}

export const EMPTY_USAGE_FIGURES: UsageFigures = { provided: EMPTY_USAGE, used: EMPTY_USAGE };

/**
 * The usage columns of department_figures and region_figures. The usage fold
 * adds each delivery to them (usage-fold.ts); nothing recounts them. The stored
 * figures (stats/figures.ts) take them from here.
 */
export const USAGE_FIGURES = [
  { column: 'usage_requests_provided', type: 'bigint', description: "Deliveries of the unit's hosted data to other departments (资源被使用: requests)." },
  { column: 'usage_rows_provided', type: 'bigint', description: 'Rows those deliveries carried.' },
  { column: 'usage_consumers', type: 'integer', description: "Departments that received the unit's data, counted per providing department." },
  { column: 'usage_requests_made', type: 'bigint', description: "Deliveries the unit received from other departments' directories (资源使用: requests)." },
  { column: 'usage_rows_received', type: 'bigint', description: 'Rows those deliveries carried.' },
  {
    column: 'usage_consuming_departments',
    type: 'integer',
    description: "Departments of the unit that received another department's data (0 or 1 for a department).",
  },
] as const satisfies readonly { column: string; type: 'integer' | 'bigint'; description: string }[];

export const USAGE_COLUMNS = USAGE_FIGURES.map((figure) => figure.column);

/** Usage figures from a figures row holding USAGE_COLUMNS. */
export function usageFiguresOf(row: Record<string, unknown>): UsageFigures {
  const n = (column: (typeof USAGE_COLUMNS)[number]) => toSafeNumber(row[column] as string);
  return {
    provided: { requests: n('usage_requests_provided'), rowsDelivered: n('usage_rows_provided'), consumers: n('usage_consumers') },
    used: { requests: n('usage_requests_made'), rowsDelivered: n('usage_rows_received'), consumers: n('usage_consuming_departments') },
  };
}

/** One delivery to record. */
export interface Delivery {
  directoryId: number;
  mountId: number;
  version: number;
  providerId: number;
  /** The receiving department; null for an administrator or the provider's own steward. */
  consumerId: number | null;
  subscriptionId: number | null;
  viewer: Viewer;
  route: SharingRoute;
  rows: number;
  /** Items delivered under a restricting grant; null for all. */
  columns: string[] | null;
}

/** The access log's insert and its parameters for one delivery. */
export function accessLogInsert(d: Delivery): { sql: string; params: unknown[] } {
  return {
    sql: `insert into dataset_access (directory_id, mount_id, version, provider_id, consumer_id, subscription_id, actor_kind, actor_id, route, rows_delivered, columns)
          values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb)`,
    params: [
      d.directoryId,
      d.mountId,
      d.version,
      d.providerId,
      d.consumerId,
      d.subscriptionId,
      d.viewer.kind,
      d.viewer.id,
      d.route,
      d.rows,
      d.columns ? JSON.stringify(d.columns) : null,
    ],
  };
}

/**
 * The access log and the usage figures. A delivery only appends its log
 * entry (no counter row is updated, so concurrent readers never queue on
 * each other); the usage fold (usage-fold.ts) adds new entries to the
 * counters of the directory, the (provider, consumer) pair and both
 * departments' figures (whose trigger carries them up the region tree)
 * about once a second, exactly once. Reads of usage never touch the log;
 * they lag a delivery by up to one fold interval.
 */
export const usageService = {
  /** One prepared insert (src/db/prepared.ts; its text never changes), in `em`'s transaction if it has one. */
  async record(em: EntityManager, d: Delivery): Promise<void> {
    const { sql, params } = accessLogInsert(d);
    await executePrepared(em, sql, params);
  },

  /** Usage of many directories, one statement. */
  async ofDirectories(em: EntityManager, directoryIds: readonly number[]): Promise<Map<number, UsageCounts>> {
    const rows: { directory_id: number; requests: string; rows_delivered: string; consumers: number }[] = await em.execute(
      `select directory_id, requests, rows_delivered, consumers from directory_usage where directory_id in (?)`,
      [[...directoryIds]],
    );
    const map = new Map<number, UsageCounts>(directoryIds.map((id) => [id, EMPTY_USAGE]));
    for (const r of rows)
      map.set(r.directory_id, { requests: toSafeNumber(r.requests), rowsDelivered: toSafeNumber(r.rows_delivered), consumers: r.consumers });
    return map;
  },
};
