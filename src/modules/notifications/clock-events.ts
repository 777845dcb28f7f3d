import { toGlobalId } from '../../graphql/global-id';
import { staleSql } from '../catalogue/staleness';
import { BUSINESS_TODAY_SQL } from '../subscriptions/subscription.state-machine';
import { directoryEvent, subscriptionEvent } from './event-data';
import { emitEvents, NotificationEventType, type NotificationEvent, type SqlExecutor } from './notification-event';
import type { SqlPool } from './sql-pool';

/**
 * A granted subscription is "lapsing soon" from this many days before its end
 * date: on the day 7 days before (China Standard Time) and every day after,
 * up to and including the end date, its last granted day.
 */
export const LAPSING_NOTICE_DAYS = 7;
/**
 * Events the clock caused longer ago than this are not written any more: a
 * server started after a long pause, or the first start after an upgrade,
 * does not flood receivers with old lapses.
 */
const LOOK_BACK = `interval '7 days'`;

interface SubscriptionRow {
  id: number;
  status: string;
  purpose: string;
  end_date: string;
  decision_reason: string | null;
  directory_id: number;
  directory_code: string;
  directory_name: string;
  provider_code: string;
  provider_name: string;
  requester_code: string;
  requester_name: string;
}

const SUBSCRIPTIONS = `
  select s.id, s.status, s.purpose, to_char(s.end_date, 'YYYY-MM-DD') as end_date, s.decision_reason,
         c.id as directory_id, c.code as directory_code, c.name as directory_name,
         p.credit_code as provider_code, p.name as provider_name, r.credit_code as requester_code, r.name as requester_name
    from subscription_request s
    join resource_directory c on c.id = s.directory_id
    join department p on p.id = s.provider_id
    join department r on r.id = s.requester_id`;

const toEvent = (type: NotificationEventType, row: SubscriptionRow, status: string) =>
  subscriptionEvent(
    type,
    {
      id: row.id,
      status,
      purpose: row.purpose,
      endDate: row.end_date,
      decisionReason: row.decision_reason,
      directory: { id: row.directory_id, code: row.directory_code, name: row.directory_name },
      provider: { creditCode: row.provider_code, name: row.provider_name },
      requester: { creditCode: row.requester_code, name: row.requester_name },
    },
    `${type}:${row.id}:${row.end_date}`,
  );

/**
 * Writes the events no request causes: a granted subscription that will end
 * within 7 days or has ended, a directory whose mounted data turned stale.
 * Every server runs it every minute (the dispatcher); each event has a key
 * written once (a unique index), so replicas never write one twice. Returns
 * how many events were written.
 */
export async function emitClockEvents(pool: SqlPool): Promise<number> {
  return pool.transaction(async (tx: SqlExecutor) => {
    const notWritten = (type: NotificationEventType, key: string) => `not exists (select 1 from notification_event e where e.dedup_key = '${type}:' || ${key})`;
    const lapsing: SubscriptionRow[] = await tx(
      `${SUBSCRIPTIONS}
        where s.status = 'GRANTED' and s.end_date >= ${BUSINESS_TODAY_SQL} and s.end_date <= ${BUSINESS_TODAY_SQL} + ${LAPSING_NOTICE_DAYS}
          and ${notWritten(NotificationEventType.SUBSCRIPTION_LAPSING_SOON, `s.id || ':' || to_char(s.end_date, 'YYYY-MM-DD')`)}`,
    );
    const lapsed: SubscriptionRow[] = await tx(
      `${SUBSCRIPTIONS}
        where s.status in ('GRANTED', 'LAPSED') and s.end_date < ${BUSINESS_TODAY_SQL} and s.end_date >= ${BUSINESS_TODAY_SQL} - ${LOOK_BACK}
          and ${notWritten(NotificationEventType.SUBSCRIPTION_LAPSED, `s.id || ':' || to_char(s.end_date, 'YYYY-MM-DD')`)}`,
    );
    const stale: {
      id: number;
      code: string;
      name: string;
      credit_code: string;
      department_name: string;
      stale_since: Date;
      last_refreshed_at: Date | null;
      mount_ids: number[];
      key: string;
    }[] = await tx(
      `select c.id, c.code, c.name, d.credit_code, d.name as department_name, c.stale_after as stale_since, c.last_refreshed_at,
              array(select m.id from mount m where m.directory_id = c.id and m.active order by m.id) as mount_ids,
              c.id || ':' || (extract(epoch from c.stale_after)::bigint) as key
         from resource_directory c join department d on d.id = c.department_id
        where ${staleSql('c')} and c.stale_after >= now() - ${LOOK_BACK}
          and ${notWritten(NotificationEventType.MOUNT_STALE, `c.id || ':' || (extract(epoch from c.stale_after)::bigint)`)}`,
    );
    const events: NotificationEvent[] = [
      ...lapsing.map((row) => toEvent(NotificationEventType.SUBSCRIPTION_LAPSING_SOON, row, 'GRANTED')),
      ...lapsed.map((row) => toEvent(NotificationEventType.SUBSCRIPTION_LAPSED, row, 'LAPSED')),
      ...stale.map((row) =>
        directoryEvent(
          NotificationEventType.MOUNT_STALE,
          row,
          { creditCode: row.credit_code, name: row.department_name },
          {
            staleSince: new Date(row.stale_since).toISOString(),
            lastRefreshedAt: row.last_refreshed_at ? new Date(row.last_refreshed_at).toISOString() : null,
            // The mounts to refresh (refreshMount), by the ids a GraphQL caller uses: the data of each is stale.
            mounts: row.mount_ids.map((id) => ({ id: toGlobalId('Mount', id) })),
          },
          `${NotificationEventType.MOUNT_STALE}:${row.key}`,
        ),
      ),
    ];
    return (await emitEvents(tx, events)).length;
  });
}
