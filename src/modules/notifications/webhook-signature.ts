import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Headers of every webhook POST (docs/notifications.md). */
export const WEBHOOK_HEADERS = {
  /** The event's id: the same on every attempt and for every webhook; receivers deduplicate on it. */
  eventId: 'mulu-event-id',
  /** The event type, e.g. SUBSCRIPTION_APPROVED. */
  eventType: 'mulu-event-type',
  /** 1 on the first attempt, 2 on the first retry, ... */
  attempt: 'mulu-delivery-attempt',
  /** Unix time in seconds when this attempt was signed. */
  timestamp: 'mulu-timestamp',
  /** `sha256=` and the hex HMAC-SHA256 of `<timestamp>.<body>` keyed with the webhook's secret. */
  signature: 'mulu-signature',
} as const;

/** A new webhook secret: 32 random bytes. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

/**
 * The signature header value for a body sent at `timestamp` (Unix seconds).
 * The timestamp is signed with the body so that a captured request cannot be
 * replayed later with a new timestamp.
 */
export function signWebhookBody(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex')}`;
}

/**
 * What a receiver does (and the tests do): recompute the signature over the
 * raw body and compare in constant time; refuse timestamps more than
 * `toleranceSeconds` away from now (replays).
 */
export function verifyWebhookSignature(
  secret: string,
  headers: { timestamp: string | undefined; signature: string | undefined },
  rawBody: string,
  toleranceSeconds = 300,
  nowSeconds = Math.floor(Date.now() / 1000),
): boolean {
  const timestamp = Number(headers.timestamp);
  if (!headers.signature || !Number.isInteger(timestamp) || Math.abs(nowSeconds - timestamp) > toleranceSeconds) return false;
  const expected = Buffer.from(signWebhookBody(secret, timestamp, rawBody));
  const given = Buffer.from(headers.signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
