import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { EntityManager } from '@mikro-orm/postgresql';
import { to as copyTo } from 'pg-copy-streams';
import { dependsOnTheClock } from '../../db/clock-reads';
import { badInput, conflict, forbidden, notFound } from '../../core/errors';
import type { RequestContext } from '../../core/request-context';
import { canWriteDepartment, requireViewer } from '../../core/permissions';
import { cleanText } from '../../core/text';
import { Role, type Viewer } from '../../core/viewer';
import { DirectoryStatus, ShareType, type InformationItem } from '../catalogue/directory.entity';
import type { DirectoryRef } from '../catalogue/directory.service';
import { parseValue, SQL_CAST } from '../catalogue/item-value-type';
import { SubscriptionStatus } from '../subscriptions/subscription.entity';
import { businessToday, effectiveStatus } from '../subscriptions/subscription.state-machine';
import { SharingRoute } from './dataset.entity';
import { transactionConnection } from './dataset.service';
import { RowChecker, type CheckedItem } from './row-check';
import { accessLogInsert, usageService } from './usage.service';
import { liftStatementTimeout } from '../../db/statement-timeout';

/** Largest page of rows through GraphQL; whole datasets go through the CSV and NDJSON routes. */
export const MAX_ROWS_PAGE = 1000;

/** What a caller may read of a directory's hosted dataset, decided once per request. */
export interface ReadAccess {
  directory: { id: number; code: string; shareType: ShareType; informationItems: InformationItem[] };
  mount: { id: number; datasetVersion: number };
  provider: { id: number };
  /** The items delivered, in the directory's order: all, or those a conditional grant names. */
  items: CheckedItem[];
  /** Whether a grant restricted the items. */
  restricted: boolean;
  /** The receiving department (counted as use); null for administrators and the provider's own stewards. */
  consumerId: number | null;
  subscriptionId: number | null;
}

/** What one statement reads to decide access: the directory, its provider, its hosted mount, the caller's department and its latest requests. */
interface AccessRow {
  id: number;
  code: string;
  status: DirectoryStatus;
  share_type: ShareType;
  information_items: InformationItem[];
  provider_id: number;
  provider_code: string;
  mount_id: number | null;
  dataset_version: number | null;
  consumer_id: number | null;
  consumer_name: string | null;
  requests: { id: number; status: SubscriptionStatus; end_date: string | null; granted_items: string[] | null }[];
}

/** The access row of a directory for a caller of department `creditCode` (null: none), in one statement. */
const ACCESS_SQL = (by: 'id' | 'code') => `
  select d.id, d.code, d.status, d.share_type, d.information_items, p.id as provider_id, p.credit_code as provider_code,
         m.id as mount_id, m.dataset_version, c.id as consumer_id, c.name as consumer_name,
         (select coalesce(json_agg(s), '[]') from (
            select id, status, to_char(end_date, 'YYYY-MM-DD') as end_date, granted_items from subscription_request
             where directory_id = d.id and requester_id = c.id order by id desc limit 20) s) as requests
    from resource_directory d
    join department p on p.id = d.department_id
    left join mount m on m.directory_id = d.id and m.hosted and m.active
    left join department c on c.credit_code = ?
   where d.${by} = ?`;

/** An equality or range condition on one information item; values are written as in a CSV cell. */
export interface RowFilter {
  item: string;
  eq?: string | null;
  gt?: string | null;
  gte?: string | null;
  lt?: string | null;
  lte?: string | null;
}

export interface DatasetRowOut {
  rowNumber: number;
  values: Record<string, unknown>;
}

export interface RowPage {
  rows: DatasetRowOut[];
  hasNextPage: boolean;
  version: number;
  afterRow: number;
}

const STATUS_SENTENCE: Partial<Record<SubscriptionStatus, string>> = {
  [SubscriptionStatus.PENDING]: "its request is pending: the provider's steward has not approved it yet",
  [SubscriptionStatus.REJECTED]: 'its request was rejected',
  [SubscriptionStatus.REVOKED]: 'its subscription was revoked by the provider',
  [SubscriptionStatus.CANCELLED]: 'its subscription was cancelled',
  [SubscriptionStatus.LAPSED]: 'its subscription lapsed (the end date has passed)',
};

const howToRequest = (directory: ReadAccess['directory']) =>
  `A steward of your department requests access with requestSubscription(input: { directory: { code: "${directory.code}" }, purpose: "..." })${directory.shareType === ShareType.CONDITIONAL ? "; this directory is shared on conditions, so the provider's steward approves or rejects the request" : '; it is granted at once'}.`;

/** Cursor of a row: the dataset version and the row number, so a page after a replacement is refused instead of mixing versions. */
export function encodeRowCursor(version: number, rowNumber: number): string {
  return Buffer.from(`row:${version}:${rowNumber}`, 'utf8').toString('base64url');
}

function decodeRowCursor(cursor: string | null | undefined): { version: number; rowNumber: number } | null {
  if (cursor === null || cursor === undefined) return null;
  const match = /^row:(\d{1,10}):(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) throw badInput(`"${cursor}" is not a valid cursor; pass the endCursor of a previous page of rows.`);
  return { version: Number(match[1]), rowNumber: Number(match[2]) };
}

const quoteLiteral = (text: string) => `'${text.replace(/'/g, "''")}'`;
const quoteIdent = (text: string) => `"${text.replace(/"/g, '""')}"`;

/** SQL conditions (alias r) for filters on delivered items; values checked against the item's type. */
function filterSql(filters: readonly RowFilter[], access: ReadAccess): { sql: string; params: unknown[] } {
  const parts: string[] = [];
  const params: unknown[] = [];
  const operators = [
    ['eq', '='],
    ['gt', '>'],
    ['gte', '>='],
    ['lt', '<'],
    ['lte', '<='],
  ] as const;
  for (const filter of filters) {
    const item = access.items.find((i) => i.name === filter.item);
    if (!item) {
      const known = access.directory.informationItems.some((i) => i.name === filter.item);
      throw badInput(
        known
          ? `Item "${filter.item}" is not among the items granted to your department; filter on ${access.items.map((i) => i.name).join(', ')}.`
          : `Directory ${access.directory.code} has no information item "${filter.item}".`,
      );
    }
    let any = false;
    for (const [key, op] of operators) {
      const raw = filter[key];
      if (raw === null || raw === undefined) continue;
      const parsed = parseValue(item.type, raw);
      if (!parsed.ok || parsed.value === null) throw badInput(`Filter on "${item.name}": ${parsed.ok ? 'give a value' : parsed.reason}.`);
      any = true;
      parts.push(`(r.data->>?)::${SQL_CAST[item.type]} ${op} ?::${SQL_CAST[item.type]}`);
      params.push(item.name, String(parsed.value));
    }
    if (!any) throw badInput(`The filter on "${item.name}" needs a value: eq, gt, gte, lt or lte.`);
  }
  return { sql: parts.length ? ` and ${parts.join(' and ')}` : '', params };
}

function project(data: Record<string, unknown>, access: ReadAccess): Record<string, unknown> {
  if (!access.restricted) return data;
  const out: Record<string, unknown> = {};
  for (const item of access.items) if (item.name in data) out[item.name] = data[item.name];
  return out;
}

/**
 * Delivery of hosted data (共享数据的交付). One service decides who may read
 * what, for GraphQL and the HTTP routes alike, per request: the provider's
 * stewards and administrators read everything; another department reads a
 * published, shared directory only under a live granted subscription, and
 * only the items the grant names. Every delivery appends one entry to the
 * access log; the usage fold counts it (usage-fold.ts).
 */
export const deliveryService = {
  /**
   * Decides what the caller may read, from one statement (the directory,
   * its provider, its hosted mount, the caller's department and its latest
   * subscription requests), outside or inside a transaction.
   */
  async requireReadAccess(ctx: RequestContext, em: EntityManager, ref: DirectoryRef): Promise<ReadAccess> {
    const viewer = requireViewer(ctx);
    // Whether a grant is live depends on the date: answers are never reused by the response cache.
    dependsOnTheClock();
    // A code from a URL has not passed GraphQL's input hygiene: compared upper-case like every identifier code (core/text.ts).
    const key = ref.id ?? cleanText((ref.code ?? '').trim(), 'code', { identifier: true });
    const [row] = await em.execute<AccessRow[]>(ACCESS_SQL(ref.id != null ? 'id' : 'code'), [viewer.departmentCreditCode ?? null, key]);
    if (!row) throw notFound(`Directory ${ref.code ?? ''} does not exist.`.replace('  ', ' '));
    const directory = { id: row.id, code: row.code, shareType: row.share_type, informationItems: row.information_items };
    if (row.status !== DirectoryStatus.PUBLISHED) {
      throw conflict(
        `Directory ${directory.code} is ${row.status === DirectoryStatus.DRAFT ? 'a draft' : 'withdrawn'}; only published directories deliver data.`,
      );
    }
    const all = new RowChecker(directory.informationItems).items;
    const owner = canWriteDepartment(viewer, row.provider_code);
    const access = (items: CheckedItem[], consumerId: number | null, subscriptionId: number | null): ReadAccess => {
      if (row.mount_id === null) {
        throw conflict(
          `Directory ${directory.code} holds no rows in Mulu: its data is not hosted here${owner ? ' (mount a hosted TABLE or FILE dataset and load its rows)' : ''}.`,
        );
      }
      return {
        directory,
        mount: { id: row.mount_id, datasetVersion: row.dataset_version ?? 0 },
        provider: { id: row.provider_id },
        items,
        restricted: items.length !== all.length,
        consumerId,
        subscriptionId,
      };
    };
    if (owner) return access(all, null, null);
    if (directory.shareType === ShareType.NOT_SHARED) {
      throw forbidden(`Directory ${directory.code} is not shared (不予共享): its data is delivered to no other department.`);
    }
    if (viewer.role !== Role.STEWARD || !viewer.departmentCreditCode) {
      throw forbidden(
        `Rows of directory ${directory.code} are delivered to departments with a granted subscription${viewer.role === Role.VIEWER ? '; your role is read-only and acts for no department' : ''}. ${howToRequest(directory)}`,
      );
    }
    if (row.consumer_id === null) throw forbidden(`Your department ${viewer.departmentCreditCode} is not registered in Mulu; it cannot receive data.`);
    const requests = [...row.requests].sort((x, y) => y.id - x.id);
    const today = businessToday();
    const live = requests.find((r) => effectiveStatus({ status: r.status, endDate: r.end_date }, today) === SubscriptionStatus.GRANTED);
    if (!live) {
      const latest = requests[0] ? STATUS_SENTENCE[effectiveStatus({ status: requests[0].status, endDate: requests[0].end_date }, today)] : null;
      throw forbidden(
        `${row.consumer_name} has no live granted subscription to directory ${directory.code}${latest ? `: ${latest}` : ''}. ${howToRequest(directory)}`,
      );
    }
    const granted = live.granted_items;
    return access(granted ? all.filter((item) => granted.includes(item.name)) : all, row.consumer_id, live.id);
  },

  /**
   * A page of rows, in row order, after a cursor, filtered; logged as one
   * delivery. Two statements and no transaction: the access row, then the
   * rows with the log entry appended by the same statement (the entry is
   * not written when the page is refused for a stale cursor).
   */
  async page(ctx: RequestContext, ref: DirectoryRef, args: { first: number; after?: string | null; filters?: readonly RowFilter[] | null }): Promise<RowPage> {
    if (!Number.isInteger(args.first) || args.first < 1 || args.first > MAX_ROWS_PAGE)
      throw badInput(`"first" must be between 1 and ${MAX_ROWS_PAGE}, got ${args.first}.`);
    const cursor = decodeRowCursor(args.after);
    const em = ctx.em;
    const access = await this.requireReadAccess(ctx, em, ref);
    const { sql, params } = filterSql(args.filters ?? [], access);
    const log = accessLogInsert(delivery(access, requireViewer(ctx), SharingRoute.GRAPHQL, 0, access.mount.datasetVersion));
    // The log's values after the page's: version and row count come from the page (the version in the same statement as the rows, so a replacement committing in between cannot empty the page).
    const logValues = log.params.slice(0, 2).concat(log.params.slice(3, 9), log.params.slice(10));
    const rows: { version: number; row_no: string; data: Record<string, unknown> }[] = await em.execute(
      `with page as (
         select r.version, r.row_no, r.data from dataset_row r
          where r.mount_id = ? and r.version = (select m.dataset_version from mount m where m.id = ?) and r.row_no > ?${sql}
          order by r.row_no limit ?),
       logged as (
         insert into dataset_access (directory_id, mount_id, provider_id, consumer_id, subscription_id, actor_kind, actor_id, route, columns, version, rows_delivered)
         select ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, coalesce((select max(version) from page), ?), least((select count(*) from page), ?)
          where ?::int is null or not exists (select 1 from page) or (select max(version) from page) = ?::int)
       select version, row_no, data from page order by row_no`,
      [
        access.mount.id,
        access.mount.id,
        cursor?.rowNumber ?? 0,
        ...params,
        args.first + 1,
        ...logValues,
        access.mount.datasetVersion,
        args.first,
        cursor?.version ?? null,
        cursor?.version ?? null,
      ],
    );
    const version = rows[0]?.version ?? access.mount.datasetVersion;
    if (cursor && cursor.version !== version && rows.length > 0) {
      throw conflict(
        `The dataset of directory ${access.directory.code} was replaced (version ${version}) since this cursor was handed out; start again without "after".`,
      );
    }
    const page = rows.slice(0, args.first).map((r) => ({ rowNumber: Number(r.row_no), values: project(r.data, access) }));
    return { rows: page, hasNextPage: rows.length > args.first, version, afterRow: cursor?.rowNumber ?? 0 };
  },

  /**
   * Streams the whole current version as CSV (header: the delivered items)
   * or NDJSON (one JSON object a line) to `out`, with COPY: PostgreSQL
   * writes the text, Node only passes it on, so memory stays flat. The
   * delivery is logged once the last row was sent, in the same transaction.
   */
  async export(ctx: RequestContext, ref: DirectoryRef, format: 'csv' | 'ndjson', start: (fileName: string) => Writable): Promise<void> {
    await ctx.em.transactional(async (em) => {
      // One COPY streams the whole dataset for as long as the download takes.
      await liftStatementTimeout(em);
      const access = await this.requireReadAccess(ctx, em, ref);
      const m = access.mount.id;
      const rows = `from dataset_row r where r.mount_id = ${m} and r.version = (select dataset_version from mount where id = ${m}) order by r.row_no`;
      const sql =
        format === 'csv'
          ? `copy (select ${access.items.map((i) => `r.data->>${quoteLiteral(i.name)} as ${quoteIdent(i.name)}`).join(', ')} ${rows}) to stdout with (format csv, header true)`
          : // CSV with a quote and delimiter JSON text never holds raw: each line is the JSON text as it is.
            `copy (select ${access.restricted ? `jsonb_build_object(${access.items.map((i) => `${quoteLiteral(i.name)}, r.data->${quoteLiteral(i.name)}`).join(', ')})` : 'r.data'}::text ${rows}) to stdout with (format csv, quote e'\\x01', delimiter e'\\x02')`;
      const connection = await transactionConnection(em);
      const stream = connection.query(copyTo(sql));
      await pipeline(stream, start(`${access.directory.code}.${format}`));
      await usageService.record(
        em,
        delivery(
          access,
          requireViewer(ctx),
          format === 'csv' ? SharingRoute.CSV : SharingRoute.NDJSON,
          Number(stream.rowCount ?? 0),
          access.mount.datasetVersion,
        ),
      );
    });
  },
};

function delivery(access: ReadAccess, viewer: Viewer, route: SharingRoute, rows: number, version: number) {
  return {
    directoryId: access.directory.id,
    mountId: access.mount.id,
    version,
    providerId: access.provider.id,
    consumerId: access.consumerId,
    subscriptionId: access.subscriptionId,
    viewer,
    route,
    rows,
    columns: access.restricted ? access.items.map((i) => i.name) : null,
  };
}
