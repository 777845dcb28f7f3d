import type { EntityManager } from '@mikro-orm/postgresql';

/**
 * What a webhook can listen to (docs/notifications.md has each event's
 * `data`). Department events go to the webhooks of the departments they
 * concern and to administrators' webhooks; platform events (snapshots, a
 * region's rate) to administrators' webhooks without a department only.
 */
export enum NotificationEventType {
  /** A department asked for another's directory (订阅申请); `data.status` is GRANTED at once for an unconditional share. */
  SUBSCRIPTION_REQUESTED = 'SUBSCRIPTION_REQUESTED',
  SUBSCRIPTION_APPROVED = 'SUBSCRIPTION_APPROVED',
  SUBSCRIPTION_REJECTED = 'SUBSCRIPTION_REJECTED',
  SUBSCRIPTION_REVOKED = 'SUBSCRIPTION_REVOKED',
  SUBSCRIPTION_CANCELLED = 'SUBSCRIPTION_CANCELLED',
  /** A granted subscription ends within 7 days (China Standard Time). */
  SUBSCRIPTION_LAPSING_SOON = 'SUBSCRIPTION_LAPSING_SOON',
  /** A granted subscription's end date has passed. */
  SUBSCRIPTION_LAPSED = 'SUBSCRIPTION_LAPSED',
  DIRECTORY_PUBLISHED = 'DIRECTORY_PUBLISHED',
  DIRECTORY_WITHDRAWN = 'DIRECTORY_WITHDRAWN',
  /** A published directory's mounted data was not refreshed within its update cycle (长期不更新). */
  MOUNT_STALE = 'MOUNT_STALE',
  /** Rows were loaded into a dataset held by the platform (provider and granted consumers). */
  DATASET_ROWS_LOADED = 'DATASET_ROWS_LOADED',
  /** After a snapshot capture, a unit's rate is below the threshold and was not in the month before. */
  RATE_FELL_BELOW_THRESHOLD = 'RATE_FELL_BELOW_THRESHOLD',
  /** After a snapshot capture, a unit's rate is at or above the threshold and was below in the month before. */
  RATE_ROSE_ABOVE_THRESHOLD = 'RATE_ROSE_ABOVE_THRESHOLD',
  /** A monthly snapshot was captured (platform event). */
  SNAPSHOT_CAPTURED = 'SNAPSHOT_CAPTURED',
  /** Sent by testWebhook to that webhook only. */
  WEBHOOK_TEST = 'WEBHOOK_TEST',
}

/** Events a webhook may list (WEBHOOK_TEST is sent on request, to one webhook). */
export const SUBSCRIBABLE_EVENTS: readonly NotificationEventType[] = Object.values(NotificationEventType).filter(
  (t) => t !== NotificationEventType.WEBHOOK_TEST,
);

/** Events only administrators' all-department webhooks receive: they concern no department. */
export const PLATFORM_EVENTS: readonly NotificationEventType[] = [NotificationEventType.SNAPSHOT_CAPTURED];

/** Events the GraphQL subscription `subscriptionEvents` streams. */
export const REQUEST_EVENTS: readonly NotificationEventType[] = [
  NotificationEventType.SUBSCRIPTION_REQUESTED,
  NotificationEventType.SUBSCRIPTION_APPROVED,
  NotificationEventType.SUBSCRIPTION_REJECTED,
  NotificationEventType.SUBSCRIPTION_REVOKED,
  NotificationEventType.SUBSCRIPTION_CANCELLED,
  NotificationEventType.SUBSCRIPTION_LAPSING_SOON,
  NotificationEventType.SUBSCRIPTION_LAPSED,
];

/** The PostgreSQL channel dispatchers listen on: deliveries were queued. */
export const DELIVERIES_CHANNEL = 'mulu_deliveries';
/** The channel of request events, for GraphQL subscriptions: `{ id, type, departments, data }`. */
export const EVENTS_CHANNEL = 'mulu_events';
/** The channel of changed region figures (a trigger on region_figures): region codes, comma separated, or '*'. */
export const FIGURES_CHANNEL = 'mulu_figures';
/** A request event is told on EVENTS_CHANNEL when its payload's text is shorter than this (NOTIFY takes at most 8,000 bytes). */
const LIVE_PAYLOAD_BYTES = 6000;

export interface NotificationEvent {
  type: NotificationEventType;
  /** Credit codes of the departments concerned; empty for platform events. */
  departments: readonly string[];
  /** The event's `data`. */
  data: Record<string, unknown>;
  /** Written at most once per key (events the clock causes, seen by every server). */
  dedupKey?: string;
  /** Only to this webhook (testWebhook). */
  webhookId?: number;
}

/**
 * Runs one statement with `?` placeholders and returns its rows: an entity
 * manager's `execute`, or the dispatcher's own pool (sql-pool.ts), whose
 * background statements must not be counted as a request's.
 */
export type SqlExecutor = (sql: string, params?: unknown[]) => Promise<any[]>;

export interface EmittedEvent {
  id: number;
  type: NotificationEventType;
}

/**
 * The advisory lock (two keys: "mulu" in ASCII, 14) a transaction takes in
 * its outbox statement, before it draws event and delivery ids, and holds
 * until it commits: transactions that notify commit one after another from
 * there, so ids are drawn in the order their rows become visible. Readers
 * that page by id (Webhook.deliveries, the live stream's catch-up,
 * toldEventsAfter) then never pass over a row that commits later with a
 * lower id; before, a delivery drawn before another but committed after it
 * was skipped by a page read in between. The outbox statement is the last a
 * mutation runs before its commit (its subscriber comes last), so the lock
 * is held for the commit alone and waits for nothing: no deadlock, and
 * other work of these transactions still runs side by side.
 */
export const OUTBOX_LOCK_KEYS = [0x6d756c75, 14] as const;

/**
 * The outbox statement for a batch of events: variants by what the batch
 * needs, so that the common one (a mutation's events, no dedup key, none
 * streamed) pays for neither. ON CONFLICT makes every insert speculative
 * (a check of the arbiter index, then a second WAL record to confirm it),
 * worth it only for the clock's events, which carry a dedup key; the live
 * stream's NOTIFY only for request events (`live`, decided in Node).
 */
const outboxSql = (dedup: boolean, live: boolean): string => `with queued as materialized (
       select pg_advisory_xact_lock(${OUTBOX_LOCK_KEYS.join(', ')})
     ), input as (
       -- Ids drawn first, so that each inserted event is matched to its own input row (volatile: computed once), and
       -- once the outbox lock is held (the join: no row before the lock's), so that ids are drawn in commit order.
       select x.*, nextval('notification_event_id_seq')::int as id
         from jsonb_to_recordset(?::jsonb) as x(i int, type text, departments text[], payload jsonb, dedup text, webhook int, live boolean)
         cross join queued
     ), e as (
       insert into notification_event (id, type, department_codes, payload, dedup_key)
       select id, type, departments, payload, dedup from input order by i
       ${dedup ? 'on conflict (dedup_key) where dedup_key is not null do nothing' : ''}
       returning id, type, department_codes, payload, occurred_at
     ), d as (
       insert into webhook_delivery (webhook_id, event_id)
       select w.id, e.id
         from e join input on input.id = e.id
         join webhook w on (input.webhook is not null and w.id = input.webhook)
                        or (input.webhook is null and e.type = any(w.events)
                            and (w.department_id is null
                                 or exists (select 1 from department wd where wd.id = w.department_id and wd.credit_code = any(e.department_codes))))
       returning 1
     ), woke as (
       select pg_notify('${DELIVERIES_CHANNEL}', '') where exists (select 1 from d)
     )${
       live
         ? `, n as (
       select pg_notify('${EVENTS_CHANNEL}', json_build_object('id', e.id, 'type', e.type, 'departments', e.department_codes, 'occurredAt', e.occurred_at, 'data', e.payload)::text)
         from e join input on input.id = e.id where input.live and octet_length(e.payload::text) < ${LIVE_PAYLOAD_BYTES}
     )`
         : ''
     }
     select e.id, e.type${live ? ', (select count(*) from n) as notified' : ''}, (select count(*) from woke) as woke
       from e order by e.id`;
const OUTBOX_SQL = [false, true].map((dedup) => [false, true].map((live) => outboxSql(dedup, live)));

/**
 * Writes events to the outbox in the caller's transaction, with one delivery
 * for each webhook that listens to them, and tells the dispatchers and the
 * live subscriptions at commit (NOTIFY is transactional: a rolled-back
 * change writes and sends nothing). One statement whatever the number of
 * events. An event whose dedupKey was written before is skipped.
 */
export async function emitEvents(em: EntityManager | SqlExecutor, events: readonly NotificationEvent[]): Promise<EmittedEvent[]> {
  if (events.length === 0) return [];
  const execute: SqlExecutor = typeof em === 'function' ? em : (sql, params) => em.execute(sql, params);
  const rows = events.map((e, i) => ({
    i,
    type: e.type,
    departments: [...e.departments],
    payload: e.data,
    dedup: e.dedupKey ?? null,
    webhook: e.webhookId ?? null,
    live: REQUEST_EVENTS.includes(e.type),
  }));
  const dedup = rows.some((r) => r.dedup !== null);
  const live = rows.some((r) => r.live);
  const result: { id: number; type: NotificationEventType }[] = await execute(OUTBOX_SQL[+dedup][+live], [JSON.stringify(rows)]);
  return result.map((r) => ({ id: r.id, type: r.type }));
}

/** A request event as the events channel carries it (emitEvents' NOTIFY, or toldEventsAfter). */
export interface RequestEventMessage {
  id: number;
  type: NotificationEventType;
  departments: string[];
  occurredAt: string;
  data: { subscriptionRequest?: { id?: string } } & Record<string, unknown>;
}

/** The highest event id written so far: where a reader of the events channel starts (toldEventsAfter). */
export async function latestEventId(execute: SqlExecutor): Promise<number> {
  const [row] = await execute(`select coalesce(max(id), 0)::int as id from notification_event`);
  return row.id as number;
}

/**
 * The events emitEvents told on EVENTS_CHANNEL whose id is above `afterId`,
 * in id order, as the channel carries them: for a reader whose listening
 * connection was away and heard none of them.
 */
export async function toldEventsAfter(execute: SqlExecutor, afterId: number): Promise<RequestEventMessage[]> {
  // occurredAt spelled as the channel's JSON spells it (json_build_object), not as a driver reads a timestamptz.
  return execute(
    `select id, type, department_codes as departments, to_json(occurred_at) #>> '{}' as "occurredAt", payload as data
       from notification_event
      where id > ? and type in (${REQUEST_EVENTS.map((type) => `'${type}'`).join(', ')}) and octet_length(payload::text) < ${LIVE_PAYLOAD_BYTES}
      order by id`,
    [afterId],
  );
}
