import type { EntityManager } from '@mikro-orm/postgresql';
import { toGlobalId } from '../../graphql/global-id';
import { statusSql } from '../subscriptions/subscription.state-machine';
import { SubscriptionStatus } from '../subscriptions/subscription.entity';
import { emitEvents, NotificationEventType, type EmittedEvent } from './notification-event';

export interface RowsLoaded {
  /** The directory whose platform-held dataset received rows. */
  directoryId: number;
  /** Rows loaded by this load. */
  rows: number;
  /** Rows the dataset holds after it, when known. */
  totalRows?: number | null;
  /** An identifier of the dataset or load, when the caller has one (a mount or dataset id). */
  datasetId?: string | null;
}

/**
 * DATASET_ROWS_LOADED, for the code that loads rows into datasets the
 * platform holds: call it in the load's transaction, after the rows are
 * written. The provider and every department with a granted, live
 * subscription to the directory receive it. One statement to find them, one
 * to write the event.
 */
export async function notifyDatasetRowsLoaded(em: EntityManager, load: RowsLoaded): Promise<EmittedEvent[]> {
  const [row]: { code: string; name: string; credit_code: string; department_name: string; consumers: string[] | null }[] = await em.execute(
    `select c.code, c.name, d.credit_code, d.name as department_name,
            (select array_agg(distinct r.credit_code) from subscription_request s join department r on r.id = s.requester_id
              where s.directory_id = c.id and ${statusSql(SubscriptionStatus.GRANTED)}) as consumers
       from resource_directory c join department d on d.id = c.department_id where c.id = ?`,
    [load.directoryId],
  );
  if (!row) return [];
  return emitEvents(em, [
    {
      type: NotificationEventType.DATASET_ROWS_LOADED,
      departments: [row.credit_code, ...(row.consumers ?? [])],
      data: {
        directory: { id: toGlobalId('ResourceDirectory', load.directoryId), code: row.code, name: row.name },
        department: { creditCode: row.credit_code, name: row.department_name },
        rows: load.rows,
        totalRows: load.totalRows ?? null,
        datasetId: load.datasetId ?? null,
      },
    },
  ]);
}
