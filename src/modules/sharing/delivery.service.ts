import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { EntityManager } from '@mikro-orm/postgresql';
import { to as copyTo } from 'pg-copy-streams';
import { dependsOnTheClock } from '../../db/clock-reads';
import { badInput, conflict, excerpt, forbidden, notFound } from '../../core/errors';
import type { RequestContext } from '../../core/request-context';
import { requireViewer } from '../../core/permissions';
import { cleanText, columnKey } from '../../core/text';
import { Role, type Viewer } from '../../core/viewer';
import { DirectoryStatus, ShareType, type InformationItem } from '../catalogue/directory.entity';
import type { DirectoryRef } from '../catalogue/directory.service';
import { parseValue, SQL_CAST } from '../catalogue/item-value-type';
import { SubscriptionStatus } from '../subscriptions/subscription.entity';
import { businessToday, effectiveStatus } from '../subscriptions/subscription.state-machine';
import { SharingRoute } from './dataset.entity';
import { transactionConnection } from './dataset.service';
import { RowChecker, type CheckedItem } from './row-check';
import { usageService } from './usage.service';
import { liftStatementTimeout } from '../../db/statement-timeout';
import { executePrepared } from '../../db/prepared';

/** Largest page of rows through GraphQL; whole datasets go through the CSV and NDJSON routes. */
export const MAX_ROWS_PAGE = 1000;

/**
 * Most filters one page may have (each up to five conditions: eq, gt, gte,
 * lt, lte). PostgreSQL's planning time grows faster than the square of the
 * conditions: 400 filters took it 1.4 s, 2,000 took 143 s of one core.
 */
export const MAX_ROW_FILTERS = 20;

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

/**
 * What one statement reads to decide access: the directory, its provider, its hosted mount, the caller's department and its latest
 * requests, and what SQL decided from them with the rule of decideAccess (owner, live grant, delivers), so that a page's statement can
 * log its own delivery.
 */
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
  /** The caller's department's newest request, read only when it has no live grant (to say why it is refused). */
  latest_request: { status: SubscriptionStatus; end_date: string | null } | null;
  /** An administrator, or a steward of the provider (canWriteDepartment). */
  owner: boolean;
  /** The caller's department's newest live grant among its latest requests: its id, and the items it names (null: all). */
  live_id: number | null;
  live_items: string[] | null;
  /** Whether rows are delivered: published, hosted, and read by an owner or under a live grant of a shared directory. */
  delivers: boolean;
}

/**
 * The access row of a directory for a caller, in one statement; parameters in order: whether the caller is an
 * administrator, the caller's department if a steward (null otherwise), today (businessToday), the directory's id or code.
 * The consumer is joined only for a steward: no other role acts for a department. A grant is live when GRANTED and its
 * end date (inclusive) is not behind today (effectiveStatus), among the latest 20 requests; without one, the newest request
 * alone is read, for the refusal's reason.
 */
const ACCESS_SQL = (by: 'id' | 'code') => `
  select d.id, d.code, d.status, d.share_type, d.information_items, p.id as provider_id, p.credit_code as provider_code,
         m.id as mount_id, m.dataset_version, c.id as consumer_id, c.name as consumer_name,
         (select json_build_object('status', status, 'end_date', to_char(end_date, 'YYYY-MM-DD')) from subscription_request
           where g.live_id is null and directory_id = d.id and requester_id = c.id order by id desc limit 1) as latest_request,
         o.owner, g.live_id, g.live_items,
         (d.status = 'PUBLISHED' and m.id is not null and (o.owner or (d.share_type <> 'NOT_SHARED' and g.live_id is not null))) as delivers
    from resource_directory d
    join department p on p.id = d.department_id
    left join mount m on m.directory_id = d.id and m.hosted and m.active
    cross join (select ?::boolean as admin, ?::text as steward_of) v
    left join department c on c.credit_code = v.steward_of
    cross join lateral (select v.admin or coalesce(c.id = p.id, false) as owner) o
    left join lateral (
      select r.id as live_id, r.granted_items as live_items from (
        select id, status, end_date, granted_items from subscription_request
         where directory_id = d.id and requester_id = c.id order by id desc limit 20) r
       where r.status = 'GRANTED' and (r.end_date is null or r.end_date >= ?::date)
       order by r.id desc limit 1) g on true
   where d.${by} = ?`;
/** The access row with the page's rows (at most `first`, in row order, as GraphQL answers them), how many rows were read (up to `first` + 1) and whether the statement logged the delivery. */
type PageRow = AccessRow & { rows: DatasetRowOut[]; fetched: number; logged: boolean };

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

/** A row with its cursor (encodeRowCursor), as a connection's edge. */
export interface DatasetRowEdgeOut {
  readonly cursor: string;
  node: DatasetRowOut;
}

/** An edge of a page: its cursor is written when read (a page asked without cursors writes none). */
class RowEdge implements DatasetRowEdgeOut {
  constructor(
    private readonly version: number,
    readonly node: DatasetRowOut,
  ) {}

  get cursor(): string {
    return encodeRowCursor(this.version, this.node.rowNumber);
  }
}

export interface RowPage {
  edges: DatasetRowEdgeOut[];
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
  if (!match) throw badInput(`"${excerpt(cursor)}" is not a valid cursor; pass the endCursor of a previous page of rows.`);
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
    // An item named as a load names it (columnKey: full-width, decomposed or padded spellings find it too).
    const key = columnKey(filter.item);
    const names = (i: { name: string }) => columnKey(i.name) === key;
    const item = access.items.find(names);
    if (!item) {
      const known = access.directory.informationItems.some(names);
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
  // Own keys into an object without a prototype: an item may be called __proto__ or toString (row-check.ts).
  const out: Record<string, unknown> = Object.create(null);
  for (const item of access.items) if (Object.hasOwn(data, item.name)) out[item.name] = data[item.name];
  return out;
}

/** ACCESS_SQL's parameters for a caller and a directory: administrator?, department if a steward, today, the directory's id or code. */
function accessParams(viewer: Viewer, ref: DirectoryRef): unknown[] {
  // A code from a URL has not passed GraphQL's input hygiene: compared upper-case like every identifier code (core/text.ts).
  const key = ref.id ?? cleanText((ref.code ?? '').trim(), 'code', { identifier: true });
  return [viewer.role === Role.ADMIN, viewer.role === Role.STEWARD ? (viewer.departmentCreditCode ?? null) : null, businessToday(), key];
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
    const [row] = await em.execute<AccessRow[]>(ACCESS_SQL(ref.id != null ? 'id' : 'code'), accessParams(viewer, ref));
    return decideAccess(viewer, ref, row);
  },

  /**
   * A page of rows, in row order, after a cursor, filtered; logged as one
   * delivery. One statement and no transaction of its own: the access row,
   * the page's rows (row number and values of each row, as one JSON text
   * PostgreSQL builds, parsed once by the driver into the objects GraphQL
   * answers; an edge writes its cursor only when a query asks for it) and
   * the access-log entry, in one snapshot, so the version the access row
   * names is the version of the rows. The entry is
   * inserted by the statement itself (a data-modifying CTE) when the access
   * row says the rows are delivered (`delivers`, decided in SQL from the
   * same row decideAccess reads) and the cursor is not stale: it commits
   * with the read (or with the caller's transaction if there is one),
   * before the page is answered, so no delivery goes unlogged. Access is
   * then decided from the row as for every route (rows read for a caller
   * refused are dropped unseen, and no entry was written); a page granted
   * without its entry is refused as an internal error. Node touches a row
   * only under a grant that restricts the items, to drop the items not
   * granted. Filters add one statement before it, the access row alone,
   * since a filter is checked against the items granted.
   */
  async page(ctx: RequestContext, ref: DirectoryRef, args: { first: number; after?: string | null; filters?: readonly RowFilter[] | null }): Promise<RowPage> {
    if (!Number.isInteger(args.first) || args.first < 1 || args.first > MAX_ROWS_PAGE)
      throw badInput(`"first" must be between 1 and ${MAX_ROWS_PAGE}, got ${args.first}.`);
    if (args.filters && args.filters.length > MAX_ROW_FILTERS)
      throw badInput(`A page takes at most ${MAX_ROW_FILTERS} filters (each with eq, gt, gte, lt and lte if needed), got ${args.filters.length}.`);
    const cursor = decodeRowCursor(args.after);
    const viewer = requireViewer(ctx);
    const em = ctx.em;
    const filters = args.filters?.length ? filterSql(args.filters, await this.requireReadAccess(ctx, em, ref)) : { sql: '', params: [] };
    const by = ref.id != null ? 'id' : 'code';
    // Prepared (src/db/prepared.ts) when its text is the one without filters: planning it cost more than running it.
    const run = filters.sql
      ? (sql: string, params: unknown[]) => em.execute<PageRow[]>(sql, params)
      : (sql: string, params: unknown[]) => executePrepared<PageRow>(em, sql, params);
    // One row more than asked says whether a next page follows; it is counted, not delivered.
    const [row] = await run(
      `with access as (${ACCESS_SQL(by)}),
       page as (
         select r.row_no, r.data from dataset_row r
          where r.mount_id = (select mount_id from access) and r.version = (select dataset_version from access) and r.row_no > ?${filters.sql}
          order by r.row_no limit ?),
       counted as (select count(*)::int as fetched from page),
       logged as (
         insert into dataset_access (directory_id, mount_id, version, provider_id, consumer_id, subscription_id, actor_kind, actor_id, route, rows_delivered, columns)
         select a.id, a.mount_id, a.dataset_version, a.provider_id, case when a.owner then null else a.consumer_id end,
                case when a.owner then null else a.live_id end, ?, ?, ?, least(n.fetched, ?),
                case when a.owner or a.live_items is null then null else (
                  select case when count(*) = jsonb_array_length(a.information_items) then null else coalesce(jsonb_agg(i.item->>'name' order by i.n), '[]') end
                    from jsonb_array_elements(a.information_items) with ordinality i(item, n) where a.live_items @> jsonb_build_array(i.item->>'name')) end
           from access a, counted n
          where a.delivers and (coalesce(?::bigint, a.dataset_version) = a.dataset_version or n.fetched = 0)
         returning 1)
       select a.*, n.fetched, exists (select 1 from logged) as logged,
              (select coalesce(json_agg(json_build_object('rowNumber', p.row_no, 'values', p.data) order by p.row_no), '[]')
                 from (select row_no, data from page order by row_no limit ?) p) as rows
         from access a, counted n`,
      [
        ...accessParams(viewer, ref),
        cursor?.rowNumber ?? 0,
        ...filters.params,
        args.first + 1,
        viewer.kind,
        viewer.id,
        SharingRoute.GRAPHQL,
        args.first,
        cursor?.version ?? null,
        args.first,
      ],
    );
    const access = decideAccess(viewer, ref, row);
    const version = access.mount.datasetVersion;
    if (cursor && cursor.version !== version && row.fetched > 0) {
      throw conflict(
        `The dataset of directory ${access.directory.code} was replaced (version ${version}) since this cursor was handed out; start again without "after".`,
      );
    }
    // Never reached while SQL and decideAccess read the row alike: a page is answered only with its entry written.
    if (!row.logged) throw new Error(`A page of directory ${access.directory.code} was granted but its delivery was not logged; it is not answered.`);
    if (access.restricted) for (const node of row.rows) node.values = project(node.values, access);
    const edges = row.rows.map((node) => new RowEdge(version, node));
    return { edges, hasNextPage: row.fetched > args.first, version, afterRow: cursor?.rowNumber ?? 0 };
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
      try {
        await pipeline(stream, start(`${access.directory.code}.${format}`));
      } catch (error) {
        // The download was cut (its client hung up, or stopped reading past the stall time). pg-copy-streams cannot stop a
        // COPY half read, and PostgreSQL would wait for ever to send the rest, in this transaction, on this pooled
        // connection. Closing the connection ends both: PostgreSQL rolls the transaction back, the pool opens a new one.
        (connection as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
        throw error;
      }
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

/**
 * What `viewer` may read, decided from the access row (the directory, its
 * provider, its hosted mount, the caller's department and its latest
 * subscription requests): the one decision behind every route. Who owns the
 * directory and which grant is live come from the row, as SQL decided them
 * (ACCESS_SQL: the page's statement logs its delivery by the same columns);
 * Node says why a caller is refused.
 */
function decideAccess(viewer: Viewer, ref: DirectoryRef, row: AccessRow | undefined): ReadAccess {
  // Whether a grant is live depends on the date: answers are never reused by the response cache.
  dependsOnTheClock();
  // A draft is not there for anyone but its owners (canReadDraftsOf: row.owner is that rule, as SQL decided it).
  if (!row || (row.status === DirectoryStatus.DRAFT && !row.owner)) throw notFound(`Directory ${ref.code ?? ''} does not exist.`.replace('  ', ' '));
  const directory = { id: row.id, code: row.code, shareType: row.share_type, informationItems: row.information_items };
  if (row.status !== DirectoryStatus.PUBLISHED) {
    throw conflict(
      `Directory ${directory.code} is ${row.status === DirectoryStatus.DRAFT ? 'a draft' : 'withdrawn'}; only published directories deliver data.`,
    );
  }
  const all = new RowChecker(directory.informationItems).items;
  const owner = row.owner;
  const access = (items: CheckedItem[], consumerId: number | null, subscriptionId: number | null): ReadAccess => {
    if (row.mount_id === null) {
      throw conflict(
        `Directory ${directory.code} holds no rows in Mulu: its data is not hosted here${owner ? ' (mount a hosted TABLE or FILE dataset and load its rows)' : ''}.`,
      );
    }
    if (!row.delivers) throw new Error(`The access row of directory ${directory.code} does not say it delivers where its reading grants access.`);
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
  if (row.live_id === null) {
    const last = row.latest_request;
    const latest = last ? STATUS_SENTENCE[effectiveStatus({ status: last.status, endDate: last.end_date }, businessToday())] : null;
    throw forbidden(
      `${row.consumer_name} has no live granted subscription to directory ${directory.code}${latest ? `: ${latest}` : ''}. ${howToRequest(directory)}`,
    );
  }
  const granted = row.live_items;
  return access(granted ? all.filter((item) => granted.includes(item.name)) : all, row.consumer_id, row.live_id);
}

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
