import { toSafeNumber } from '../../core/numbers';

/** Subscription figures of one unit (a department or a region). */
export interface SubscriptionCounts {
  /** Granted, live subscriptions the unit made (订阅量). */
  made: number;
  /** Granted, live subscriptions to the unit's directories (被订阅量). */
  received: number;
  /** Requests waiting for the unit's decision as provider. */
  pending: number;
}

export const EMPTY_SUBSCRIPTION_COUNTS: SubscriptionCounts = { made: 0, received: 0, pending: 0 };

/**
 * Subscription figures from a figures row (figures.ts declares its columns), kept
 * by every request and transition (and, for lapsing, as time passes:
 * departmentFiguresService.refreshStaleness).
 */
export function subscriptionCountsOf(row: Record<string, unknown>): SubscriptionCounts {
  return {
    made: toSafeNumber(row.subscriptions_made as string),
    received: toSafeNumber(row.subscriptions_received as string),
    pending: toSafeNumber(row.subscriptions_pending as string),
  };
}
