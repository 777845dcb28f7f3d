import type { EntityManager } from '@mikro-orm/postgresql';
import type { EntityChange, Mutation, MutationSubscriber } from '../../core/unit-of-work';
import { toGlobalId } from '../../graphql/global-id';
import { DirectoryStatus, ResourceDirectory } from '../catalogue/directory.entity';
import { previousPeriod } from '../reports/period';
import { ReportSnapshot, ReportUnitKind, type UnitFigures } from '../reports/report-snapshot.entity';
import { DatasetLoad, LoadMode } from '../sharing/dataset.entity';
import { statusSql } from '../subscriptions/subscription.state-machine';
import { SubscriptionRequest, SubscriptionStatus } from '../subscriptions/subscription.entity';
import { directoryEvent, subscriptionEvent } from './event-data';
import { DeliveryStatus } from './webhook.entity';
import { emitEvents, NotificationEventType, type NotificationEvent } from './notification-event';
import { notificationPolicy } from './notification-policy';
import { rateThresholdEvents } from './rate-events';

/** The event of a request's new stored status (the clock's LAPSED is written by clock-events.ts). */
const EVENT_OF_STATUS: Partial<Record<SubscriptionStatus, NotificationEventType>> = {
  [SubscriptionStatus.GRANTED]: NotificationEventType.SUBSCRIPTION_APPROVED,
  [SubscriptionStatus.REJECTED]: NotificationEventType.SUBSCRIPTION_REJECTED,
  [SubscriptionStatus.REVOKED]: NotificationEventType.SUBSCRIPTION_REVOKED,
  [SubscriptionStatus.CANCELLED]: NotificationEventType.SUBSCRIPTION_CANCELLED,
};

const EVENT_OF_DIRECTORY_STATUS: Partial<Record<DirectoryStatus, NotificationEventType>> = {
  [DirectoryStatus.PUBLISHED]: NotificationEventType.DIRECTORY_PUBLISHED,
  [DirectoryStatus.WITHDRAWN]: NotificationEventType.DIRECTORY_WITHDRAWN,
};

/** The stored status a change moved to, when it moved (created with one, or updated to another). */
function newStatus(change: EntityChange): string | null {
  if (change.type === 'delete' || !('status' in change.after)) return null;
  const after = String(change.after.status);
  if (change.type === 'update' && change.before && String(change.before.status) === after) return null;
  return after;
}

/**
 * The webhook outbox, fed by what each mutation changed (docs/notifications.md):
 * a request created or moved to another status, a directory published or
 * withdrawn, a snapshot captured (with the units whose rate crossed the
 * threshold since the month before), rows loaded into a hosted dataset.
 * The events are written in the mutation's transaction, before its commit,
 * so a rolled-back mutation sends nothing. The catalogue, subscriptions,
 * reports and sharing never call this module; the events of the clock
 * (lapsing soon, lapsed, stale) are written by the dispatcher's scan
 * (clock-events.ts).
 */
export class NotificationsSubscriber implements MutationSubscriber {
  async beforeMutationCommit(em: EntityManager, mutation: Mutation): Promise<void> {
    const requests: { request: SubscriptionRequest; type: NotificationEventType }[] = [];
    const directories: { directory: ResourceDirectory; type: NotificationEventType }[] = [];
    const snapshots: ReportSnapshot[] = [];
    const loads: DatasetLoad[] = [];
    for (const change of mutation.changes) {
      const entity = change.entity;
      if (entity instanceof SubscriptionRequest) {
        if (change.type === 'create') requests.push({ request: entity, type: NotificationEventType.SUBSCRIPTION_REQUESTED });
        else {
          const type = EVENT_OF_STATUS[newStatus(change) as SubscriptionStatus];
          if (type) requests.push({ request: entity, type });
        }
      } else if (entity instanceof ResourceDirectory) {
        const type = EVENT_OF_DIRECTORY_STATUS[newStatus(change) as DirectoryStatus];
        if (type) directories.push({ directory: entity, type });
      } else if (entity instanceof ReportSnapshot && change.type === 'create') {
        snapshots.push(entity);
      } else if (entity instanceof DatasetLoad && change.type === 'create' && (entity.rowsLoaded > 0 || entity.mode === LoadMode.REPLACE)) {
        loads.push(entity);
      }
    }
    const events = [
      ...(await requestEvents(em, requests)),
      ...(await directoryEvents(em, directories)),
      ...(await snapshotEvents(em, snapshots)),
      ...(await datasetEvents(em, loads)),
    ];
    await dropEndedNotices(em, requests);
    await emitEvents(em, events);
  }
}

/** The clock's notices of a grant's end date: they hold only while it is granted. */
const END_DATE_NOTICES = [NotificationEventType.SUBSCRIPTION_LAPSING_SOON, NotificationEventType.SUBSCRIPTION_LAPSED];

/**
 * A grant revoked or cancelled has its undelivered lapsing-soon and lapsed
 * notices given up (FAILED, saying why), in the transaction that ends it:
 * a receiver still retrying would otherwise be told, after the revocation,
 * that the grant ends in a few days or has lapsed, which no longer holds.
 * The revocation's own event tells it what happened. An attempt already
 * under way is not recalled (at most one, sent as its lease began).
 */
async function dropEndedNotices(em: EntityManager, requests: { request: SubscriptionRequest; type: NotificationEventType }[]): Promise<void> {
  const ended = requests
    .filter(({ type }) => type === NotificationEventType.SUBSCRIPTION_REVOKED || type === NotificationEventType.SUBSCRIPTION_CANCELLED)
    .map(({ request }) => toGlobalId('SubscriptionRequest', request.id));
  if (ended.length === 0) return;
  await em.execute(
    `update webhook_delivery d
        set status = '${DeliveryStatus.FAILED}', next_attempt_at = null,
            error = 'Not sent: the subscription was revoked or cancelled before this notice was delivered, so it no longer holds.'
       from notification_event e
      where e.id = d.event_id and d.status = '${DeliveryStatus.PENDING}'
        and e.type in (${END_DATE_NOTICES.map((type) => `'${type}'`).join(', ')})
        and e.payload -> 'subscriptionRequest' ->> 'id' in (?)`,
    [ended],
  );
}

interface DepartmentRow {
  credit_code: string;
  department_name: string;
}

/** Requests' directories and departments: one statement for all of them. */
async function requestEvents(em: EntityManager, requests: { request: SubscriptionRequest; type: NotificationEventType }[]): Promise<NotificationEvent[]> {
  if (requests.length === 0) return [];
  const rows: {
    id: number;
    directory_id: number;
    code: string;
    name: string;
    provider_code: string;
    provider_name: string;
    requester_code: string;
    requester_name: string;
  }[] = await em.execute(
    `select s.id, c.id as directory_id, c.code, c.name, p.credit_code as provider_code, p.name as provider_name, r.credit_code as requester_code, r.name as requester_name
       from subscription_request s
       join resource_directory c on c.id = s.directory_id
       join department p on p.id = s.provider_id
       join department r on r.id = s.requester_id
      where s.id in (?)`,
    [[...new Set(requests.map(({ request }) => request.id))]],
  );
  const facts = new Map(rows.map((row) => [row.id, row]));
  return requests.flatMap(({ request, type }) => {
    const row = facts.get(request.id);
    if (!row) return [];
    return [
      subscriptionEvent(type, {
        id: request.id,
        status: request.status,
        purpose: request.purpose,
        endDate: request.endDate,
        decisionReason: request.decisionReason,
        directory: { id: row.directory_id, code: row.code, name: row.name },
        provider: { creditCode: row.provider_code, name: row.provider_name },
        requester: { creditCode: row.requester_code, name: row.requester_name },
      }),
    ];
  });
}

/**
 * The credit codes of the departments with a granted, live subscription to the directory `c` (an array, or null when
 * none): they receive its rows, so they are told when rows are loaded and when it is withdrawn or published again.
 */
const CONSUMERS_SQL = (c: string) =>
  `(select array_agg(distinct r.credit_code order by r.credit_code) from subscription_request s join department r on r.id = s.requester_id
     where s.directory_id = ${c}.id and ${statusSql(SubscriptionStatus.GRANTED)})`;

/** DIRECTORY_PUBLISHED / WITHDRAWN: for the provider and every department with a granted, live subscription (withdrawn, it delivers nothing). */
async function directoryEvents(em: EntityManager, directories: { directory: ResourceDirectory; type: NotificationEventType }[]): Promise<NotificationEvent[]> {
  if (directories.length === 0) return [];
  const rows: (DepartmentRow & { id: number; consumers: string[] | null })[] = await em.execute(
    `select c.id, d.credit_code, d.name as department_name, ${CONSUMERS_SQL('c')} as consumers
       from resource_directory c join department d on d.id = c.department_id where c.id in (?)`,
    [[...new Set(directories.map(({ directory }) => directory.id))]],
  );
  const departments = new Map(rows.map((row) => [row.id, row]));
  return directories.flatMap(({ directory, type }) => {
    const row = departments.get(directory.id);
    if (!row) return [];
    const event = directoryEvent(type, directory, { creditCode: row.credit_code, name: row.department_name });
    return [{ ...event, departments: [...new Set([row.credit_code, ...(row.consumers ?? [])])] }];
  });
}

/** The capture itself, and every unit whose rate crossed the threshold since the month before (both months as captured). */
async function snapshotEvents(em: EntityManager, snapshots: ReportSnapshot[]): Promise<NotificationEvent[]> {
  const events: NotificationEvent[] = [];
  for (const snapshot of snapshots) {
    const period = snapshot.period;
    const previous = previousPeriod(period);
    events.push({
      type: NotificationEventType.SNAPSHOT_CAPTURED,
      departments: [],
      data: {
        period,
        capturedAt: snapshot.capturedAt.toISOString(),
        capturedBy: snapshot.capturedBy,
        departmentCount: snapshot.departmentCount,
        regionCount: snapshot.regionCount,
        replaced: snapshot.replacements > 0,
      },
    });
    const rows: { period: string; kind: ReportUnitKind; key: string; name: string; figures: UnitFigures | string }[] = await em.execute(
      `select period, unit_kind as kind, unit_key as key, unit_name as name, figures from report_snapshot_unit where period in (?, ?)`,
      [period, previous],
    );
    const units = rows.map((row) => ({ ...row, figures: typeof row.figures === 'string' ? (JSON.parse(row.figures) as UnitFigures) : row.figures }));
    events.push(
      ...rateThresholdEvents(
        period,
        previous,
        units.filter((unit) => unit.period === period),
        units.filter((unit) => unit.period === previous),
        notificationPolicy.rateThreshold,
      ),
    );
  }
  return events;
}

/** DATASET_ROWS_LOADED: for the provider and every department with a granted, live subscription to the directory. */
async function datasetEvents(em: EntityManager, loads: DatasetLoad[]): Promise<NotificationEvent[]> {
  if (loads.length === 0) return [];
  const rows: (DepartmentRow & { mount_id: number; directory_id: number; code: string; name: string; consumers: string[] | null })[] = await em.execute(
    `select m.id as mount_id, c.id as directory_id, c.code, c.name, d.credit_code, d.name as department_name, ${CONSUMERS_SQL('c')} as consumers
       from mount m join resource_directory c on c.id = m.directory_id join department d on d.id = c.department_id
      where m.id in (?)`,
    [[...new Set(loads.map((load) => load.mountId))]],
  );
  const byMount = new Map(rows.map((row) => [row.mount_id, row]));
  return loads.flatMap((load) => {
    const row = byMount.get(load.mountId);
    if (!row) return [];
    return [
      {
        type: NotificationEventType.DATASET_ROWS_LOADED,
        departments: [...new Set([row.credit_code, ...(row.consumers ?? [])])],
        data: {
          directory: { id: toGlobalId('ResourceDirectory', row.directory_id), code: row.code, name: row.name },
          department: { creditCode: row.credit_code, name: row.department_name },
          mount: { id: toGlobalId('Mount', load.mountId) },
          load: { mode: load.mode, version: load.version, route: load.route },
          rows: load.rowsLoaded,
          totalRows: load.recordCount,
        },
      },
    ];
  });
}
