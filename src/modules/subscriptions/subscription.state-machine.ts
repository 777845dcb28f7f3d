import { conflict } from '../../core/errors';
import { SubscriptionStatus } from './subscription.entity';
import { dependsOnTheClock } from '../../db/clock-reads';

/**
 * Every change of a subscription request is one of these transitions
 * (diagram in docs/api.md). `by` says whose steward may fire it: the
 * provider (A, owner of the directory) or the requester (B).
 *
 *   request ──(unconditional)──▶ GRANTED
 *   request ──(conditional)────▶ PENDING
 *   PENDING ──approve (A)──▶ GRANTED
 *   PENDING ──reject (A, reason)──▶ REJECTED
 *   PENDING ──cancel (B)──▶ CANCELLED
 *   GRANTED ──revoke (A)──▶ REVOKED
 *   GRANTED ──cancel (B)──▶ CANCELLED
 *   GRANTED ──end date passes──▶ LAPSED (read-time, no event)
 */
export const TRANSITIONS = {
  approve: { from: [SubscriptionStatus.PENDING], to: SubscriptionStatus.GRANTED, by: 'provider' },
  reject: { from: [SubscriptionStatus.PENDING], to: SubscriptionStatus.REJECTED, by: 'provider' },
  revoke: { from: [SubscriptionStatus.GRANTED], to: SubscriptionStatus.REVOKED, by: 'provider' },
  cancel: { from: [SubscriptionStatus.PENDING, SubscriptionStatus.GRANTED], to: SubscriptionStatus.CANCELLED, by: 'requester' },
} as const satisfies Record<string, { from: readonly SubscriptionStatus[]; to: SubscriptionStatus; by: 'provider' | 'requester' }>;

export type SubscriptionEvent = keyof typeof TRANSITIONS;

/** Statuses that block a new request for the same (directory, requester). */
export const LIVE_STATUSES = [SubscriptionStatus.PENDING, SubscriptionStatus.GRANTED] as const;

/** Today's date (YYYY-MM-DD) in China Standard Time, the calendar end dates are written in. */
export function businessToday(now: Date = new Date()): string {
  // A status read this way changes at midnight with no write: answers using it are not reused (response-cache.ts).
  dependsOnTheClock();
  return new Date(now.getTime() + 8 * 60 * 60 * 1000).toISOString().slice(0, 10);
}

/** SQL of the same date, so reads in SQL and in Node agree. */
export const BUSINESS_TODAY_SQL = `(now() at time zone 'Asia/Shanghai')::date`;

/** A granted request lapses once its end date (inclusive) is behind us: no job needed, it is read this way. */
export function effectiveStatus(request: { status: SubscriptionStatus; endDate?: string | null }, today: string = businessToday()): SubscriptionStatus {
  if (request.status === SubscriptionStatus.GRANTED && request.endDate && request.endDate < today) return SubscriptionStatus.LAPSED;
  return request.status;
}

const STATUS_WORDS: Record<SubscriptionStatus, string> = {
  PENDING: 'pending',
  GRANTED: 'granted',
  REJECTED: 'rejected',
  REVOKED: 'revoked',
  CANCELLED: 'cancelled',
  LAPSED: 'lapsed (its end date has passed)',
};

const PAST_TENSE: Record<SubscriptionEvent, string> = { approve: 'approved', reject: 'rejected', revoke: 'revoked', cancel: 'cancelled' };

/** The state after `event`, or CONFLICT when the request is not in a state the event leaves from. */
export function nextStatus(current: SubscriptionStatus, event: SubscriptionEvent): SubscriptionStatus {
  const transition = TRANSITIONS[event];
  if (!(transition.from as readonly SubscriptionStatus[]).includes(current)) {
    const allowed = transition.from.map((s) => STATUS_WORDS[s]).join(' or ');
    throw conflict(`This subscription request is ${STATUS_WORDS[current]}; only a ${allowed} request can be ${PAST_TENSE[event]}.`);
  }
  return transition.to;
}

/** SQL condition on table alias `a` for requests whose effective status is `status`. */
export function statusSql(status: SubscriptionStatus, a = 's'): string {
  switch (status) {
    case SubscriptionStatus.GRANTED:
      return `(${a}.status = 'GRANTED' and (${a}.end_date is null or ${a}.end_date >= ${BUSINESS_TODAY_SQL}))`;
    case SubscriptionStatus.LAPSED:
      return `(${a}.status = 'LAPSED' or (${a}.status = 'GRANTED' and ${a}.end_date < ${BUSINESS_TODAY_SQL}))`;
    default:
      return `${a}.status = '${status}'`;
  }
}
