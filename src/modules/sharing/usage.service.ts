import type { EntityManager } from '@mikro-orm/postgresql';
import { toSafeNumber } from '../../core/numbers';
import type { Viewer } from '../../core/viewer';
import type { SharingRoute } from './dataset.entity';

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
 * The usage columns of department_figures and region_figures. Each delivery
 * adds to them (recordDelivery below); nothing recounts them. The stored
 * figures (stats/figures.ts) take them from here.
 */
export const USAGE_FIGURES = [
  { column: 'usage_requests_provided', type: 'bigint', description: "Deliveries of the unit's hosted data to other departments (资源被使用: requests)." },
  { column: 'usage_rows_provided', type: 'bigint', description: 'Rows those deliveries carried.' },
  { column: 'usage_consumers', type: 'integer', description: "Departments that received the unit's data, counted per providing department." },
  { column: 'usage_requests_made', type: 'bigint', description: "Deliveries the unit received from other departments' directories (资源使用: requests)." },
  { column: 'usage_rows_received', type: 'bigint', description: 'Rows those deliveries carried.' },
  { column: 'usage_consuming_departments', type: 'integer', description: "Departments of the unit that received another department's data (0 or 1 for a department)." },
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

/**
 * The access log and the usage figures. Every delivery adds one log entry
 * and, when it went to another department, adds itself to the counters of
 * the directory, the (provider, consumer) pair and both departments' figures
 * rows (whose trigger carries it up the region tree), in the delivering
 * transaction. Reads of usage never touch the log.
 */
export const usageService = {
  async record(em: EntityManager, d: Delivery): Promise<void> {
    const log = `insert into dataset_access (directory_id, mount_id, version, provider_id, consumer_id, subscription_id, actor_kind, actor_id, route, rows_delivered, columns)
                 values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb)`;
    const logParams = [d.directoryId, d.mountId, d.version, d.providerId, d.consumerId, d.subscriptionId, d.viewer.kind, d.viewer.id, d.route, d.rows, d.columns ? JSON.stringify(d.columns) : null];
    if (d.consumerId === null) {
      await em.execute(log, logParams);
      return;
    }
    // The figures rows in id order, as every writer of department_figures locks them.
    const ids = [d.providerId, d.consumerId].sort((a, b) => a - b);
    await em.execute(`select department_id from department_figures where department_id in (?) order by department_id for no key update`, [ids]);
    // xmax = 0 on a row returned by an upsert: it was inserted, so this consumer is new to the directory (or the provider).
    await em.execute(
      `with logged as (${log}),
       dc as (insert into directory_consumer (directory_id, consumer_id, requests, rows_delivered) values (?, ?, 1, ?)
              on conflict (directory_id, consumer_id) do update set requests = directory_consumer.requests + 1, rows_delivered = directory_consumer.rows_delivered + excluded.rows_delivered, last_delivered_at = now()
              returning (xmax = 0) as fresh),
       du as (insert into directory_usage (directory_id, requests, rows_delivered, consumers) select ?, 1, ?, (select fresh::int from dc)
              on conflict (directory_id) do update set requests = directory_usage.requests + 1, rows_delivered = directory_usage.rows_delivered + excluded.rows_delivered, consumers = directory_usage.consumers + excluded.consumers),
       up as (insert into usage_pair (provider_id, consumer_id, requests, rows_delivered) values (?, ?, 1, ?)
              on conflict (provider_id, consumer_id) do update set requests = usage_pair.requests + 1, rows_delivered = usage_pair.rows_delivered + excluded.rows_delivered
              returning (xmax = 0) as fresh),
       provider as (update department_figures set usage_requests_provided = usage_requests_provided + 1, usage_rows_provided = usage_rows_provided + ?,
                           usage_consumers = usage_consumers + (select fresh::int from up)
                     where department_id = ?)
       update department_figures set usage_requests_made = usage_requests_made + 1, usage_rows_received = usage_rows_received + ?, usage_consuming_departments = 1
        where department_id = ?`,
      [...logParams, d.directoryId, d.consumerId, d.rows, d.directoryId, d.rows, d.providerId, d.consumerId, d.rows, d.rows, d.providerId, d.rows, d.consumerId],
    );
  },

  /** Usage of many directories, one statement. */
  async ofDirectories(em: EntityManager, directoryIds: readonly number[]): Promise<Map<number, UsageCounts>> {
    const rows: { directory_id: number; requests: string; rows_delivered: string; consumers: number }[] = await em.execute(
      `select directory_id, requests, rows_delivered, consumers from directory_usage where directory_id in (?)`,
      [[...directoryIds]],
    );
    const map = new Map<number, UsageCounts>(directoryIds.map((id) => [id, EMPTY_USAGE]));
    for (const r of rows) map.set(r.directory_id, { requests: toSafeNumber(r.requests), rowsDelivered: toSafeNumber(r.rows_delivered), consumers: r.consumers });
    return map;
  },
};
