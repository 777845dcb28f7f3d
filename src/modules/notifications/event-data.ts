import { toGlobalId } from '../../graphql/global-id';
import { NotificationEventType, type NotificationEvent } from './notification-event';

/** A department as events name it. */
export interface DepartmentRef {
  creditCode: string;
  name: string;
}

export interface SubscriptionFacts {
  id: number;
  status: string;
  purpose: string;
  endDate?: string | null;
  decisionReason?: string | null;
  directory: { id: number; code: string; name: string };
  provider: DepartmentRef;
  requester: DepartmentRef;
}

/** An event about a subscription request, for its provider and its requester. */
export function subscriptionEvent(type: NotificationEventType, s: SubscriptionFacts, dedupKey?: string): NotificationEvent {
  return {
    type,
    departments: [s.provider.creditCode, s.requester.creditCode],
    dedupKey,
    data: {
      subscriptionRequest: {
        id: toGlobalId('SubscriptionRequest', s.id),
        status: s.status,
        purpose: s.purpose,
        endDate: s.endDate ?? null,
        reason: s.decisionReason ?? null,
      },
      // Global ids, as a GraphQL caller uses them: a receiver acts on the event without asking which directory it names.
      directory: { id: toGlobalId('ResourceDirectory', s.directory.id), code: s.directory.code, name: s.directory.name },
      provider: { creditCode: s.provider.creditCode, name: s.provider.name },
      requester: { creditCode: s.requester.creditCode, name: s.requester.name },
    },
  };
}

/** An event about a directory of one department (published, withdrawn, stale). */
export function directoryEvent(
  type: NotificationEventType,
  directory: { id: number; code: string; name: string },
  department: DepartmentRef,
  extra: Record<string, unknown> = {},
  dedupKey?: string,
): NotificationEvent {
  return {
    type,
    departments: [department.creditCode],
    dedupKey,
    data: {
      directory: { id: toGlobalId('ResourceDirectory', directory.id), code: directory.code, name: directory.name },
      department: { creditCode: department.creditCode, name: department.name },
      ...extra,
    },
  };
}
