import { Agent, errors as undiciErrors } from 'undici';
import { DELIVERIES_CHANNEL } from './notification-event';
import type { PgListener } from './pg-listener';
import { guardedLookup, isRefusedLiteral } from './url-guard';
import { signWebhookBody, WEBHOOK_HEADERS } from './webhook-signature';
import { emitClockEvents } from './clock-events';
import { createSqlPool, SQL_POOL_QUERY_TIMEOUT_MS } from './sql-pool';
import { logger } from '../../observability/logger';

/** How deliveries are sent and retried; docs/notifications.md, "Retries". */
export interface DispatcherSettings {
  /** Deliveries in flight at once per server (MULU_WEBHOOK_CONCURRENCY). */
  concurrency: number;
  /** Let webhooks reach loopback and private addresses (MULU_WEBHOOK_ALLOW_PRIVATE). */
  allowPrivate: boolean;
  /** A receiver that has not answered by then has failed this attempt. */
  timeoutMs: number;
  /** Attempts in all; after the last failure the delivery is FAILED. */
  maxAttempts: number;
  /** Wait after the first failure; doubled after each further one, with ±20 % jitter. */
  backoffBaseMs: number;
  /** Longest wait between attempts. */
  backoffMaxMs: number;
  /** How often a server looks for due retries without being told (NOTIFY wakes it for new events). */
  pollIntervalMs: number;
  /** How often a server writes the events the clock causes (lapsing and lapsed subscriptions, stale mounts). */
  clockScanIntervalMs: number;
  /** A statement of the dispatcher's own pool unanswered by then fails, and its connection is dropped (sql-pool.ts). */
  queryTimeoutMs: number;
}

export const DEFAULT_DISPATCHER_SETTINGS: DispatcherSettings = {
  concurrency: 10,
  allowPrivate: false,
  timeoutMs: 10_000,
  maxAttempts: 8,
  backoffBaseMs: 10_000,
  backoffMaxMs: 60 * 60 * 1000,
  pollIntervalMs: 1000,
  clockScanIntervalMs: 60_000,
  queryTimeoutMs: SQL_POOL_QUERY_TIMEOUT_MS,
};

/** The wait before attempt `attempt + 1` after `attempt` failed (attempt counts from 1). */
export function retryDelayMs(
  attempt: number,
  settings: Pick<DispatcherSettings, 'backoffBaseMs' | 'backoffMaxMs'>,
  random: () => number = Math.random,
): number {
  const exponential = Math.min(settings.backoffBaseMs * 2 ** Math.min(attempt - 1, 30), settings.backoffMaxMs);
  return Math.round(exponential * (0.8 + 0.4 * random()));
}

/**
 * Due deliveries a server claims in one statement: this many rounds of
 * `concurrency` attempts, so that at 1,000 deliveries a second the claims
 * and the recorded results stay at a few statements a second.
 */
const CLAIM_ROUNDS = 4;
/** Results are recorded in one statement per this many, or after FLUSH_MS. */
const FLUSH_SIZE = 200;
const FLUSH_MS = 100;
/** A receiver's answer is read (and dropped) up to this size; past it the connection is closed rather than read on. */
const MAX_RESPONSE_BYTES = 64 * 1024;

interface ClaimedDelivery {
  id: number;
  attempt: number;
  url: string;
  secret: string;
  eventId: number;
  type: string;
  /** The POST body, as EVENT_BODY_SQL writes it. */
  body: string;
}

interface AttemptResult {
  id: number;
  attempt: number;
  ok: boolean;
  code: number | null;
  ms: number;
  error: string | null;
}

export interface Dispatcher {
  /** Looks for due deliveries now (tests; NOTIFY does this in service). */
  wake(): void;
  /**
   * Stops claiming, waits for attempts in flight (up to `graceMs`) and records
   * them; queued ones, and attempts still in flight after `graceMs` (cut), go
   * back to the table, due at once for whichever server runs next.
   */
  stop(graceMs?: number): Promise<void>;
}

/**
 * The body every attempt of a delivery sends, `{"id","type","occurredAt","data"}`,
 * written by PostgreSQL from the row of `notification_event e` (the same bytes
 * each time: jsonb's text is canonical): the claim returns it as one string,
 * so the dispatcher neither parses the stored payload nor serialises it again.
 * `occurredAt` in UTC with milliseconds, as `Date.toISOString()` writes it.
 */
export const EVENT_BODY_SQL = `'{"id":"' || e.id || '","type":' || to_json(e.type)::text
  || ',"occurredAt":"' || to_char(e.occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
  || '","data":' || e.payload::text || '}'`;

/**
 * Sends queued webhook deliveries. The queue is the webhook_delivery table:
 * a server claims due rows with FOR UPDATE SKIP LOCKED and leases them (their
 * leased_until is set past the time an attempt can take), so replicas share
 * the work and never send one delivery twice at once; a server that dies
 * mid-attempt leaves a lease that expires and another server retries. That
 * makes delivery at least once: receivers deduplicate on the event id.
 * The lease is a column in no index (next_attempt_at, in the due index, is
 * left alone), so that the claim is a heap-only update: no index entries.
 */
export function startDispatcher(
  connectionString: string,
  listener: PgListener | null,
  settings: DispatcherSettings,
  log: (message: string, error: unknown) => void = (message, err) => logger.error({ err, component: 'webhooks' }, message),
): Dispatcher {
  const { concurrency } = settings;
  const db = createSqlPool(connectionString, undefined, undefined, settings.queryTimeoutMs);
  // undici (the Node.js project's HTTP client) rather than http.request: a delivery costs 0.10 ms less
  // CPU in this process (docs/notifications.md). One pool of `concurrency` kept-alive connections per receiver origin.
  // Every connection is opened through the guarded lookup (private addresses refused at connect time);
  // each phase has the receiver timeout: connecting, waiting for the answer's headers, and between body chunks.
  // undici's request() never follows redirects (that takes its redirect interceptor, not used here).
  const agent = new Agent({
    connections: concurrency,
    connect: { lookup: guardedLookup(settings.allowPrivate), timeout: settings.timeoutMs },
    headersTimeout: settings.timeoutMs,
    bodyTimeout: settings.timeoutMs,
  });
  const claimSize = concurrency * CLAIM_ROUNDS;
  // Leased for as long as a claimed row can wait in the local queue (a claim arrives while up to `concurrency` wait) and then be sent.
  const leaseMs = settings.timeoutMs * (CLAIM_ROUNDS + 2) + 30_000;
  const queue: ClaimedDelivery[] = [];
  const results: AttemptResult[] = [];
  let stopped = false;
  let claiming: Promise<void> | null = null;
  /**
   * Whether a claim may find more due rows: set by a wake (NOTIFY, the poll) and by a full claim, cleared when a
   * claim starts. Workers claim only while it is set: a claim that came back short found all that was due. (Workers
   * claimed whenever the queue was short: about 5 claims a NOTIFY while events arrived 50 at a time, most of them
   * empty; 2,510 claims for 32,800 deliveries in bench:webhooks, 1,198 since.) A wake during a claim sets it again:
   * the claim's snapshot may predate the commit that woke it.
   */
  let moreDue = true;
  let flushing: Promise<void> | null = null;
  let flushTimer: NodeJS.Timeout | null = null;
  const idleWorkers: (() => void)[] = [];
  /** Set when stop() cut the attempts in flight: their outcome is not recorded, the delivery is released. */
  let cut = false;
  const released: ClaimedDelivery[] = [];

  const claim = async (): Promise<void> => {
    const limit = claimSize;
    moreDue = false;
    const rows: ClaimedDelivery[] = await db.prepared(
      `with due as (
         select d.id from webhook_delivery d
          where d.status = 'PENDING' and d.next_attempt_at <= now() and (d.leased_until is null or d.leased_until <= now())
            and exists (select 1 from webhook w where w.id = d.webhook_id and w.active)
          order by d.next_attempt_at, d.id
          limit ? for update of d skip locked
       )
       update webhook_delivery d
          set attempt = d.attempt + 1, leased_until = now() + ? * interval '1 millisecond', last_attempt_at = now()
         from due, webhook w, notification_event e
        where d.id = due.id and w.id = d.webhook_id and e.id = d.event_id
        returning d.id, d.attempt, w.url, w.secret, e.id as "eventId", e.type, ${EVENT_BODY_SQL} as body`,
      [limit, leaseMs],
    );
    queue.push(...rows);
    if (rows.length === limit) moreDue = true;
  };

  const refill = () => {
    if (stopped || claiming || !moreDue || queue.length >= concurrency) return;
    claiming = claim()
      .catch((error: unknown) => {
        moreDue = false;
        log('claiming webhook deliveries failed', error);
      })
      .finally(() => {
        claiming = null;
        while (queue.length > 0 && idleWorkers.length > 0) idleWorkers.shift()!();
        if (moreDue && queue.length < concurrency) refill();
      });
  };

  const wake = () => {
    moreDue = true;
    refill();
  };

  const flush = (): Promise<void> => {
    if (flushTimer) {
      clearTimeout(flushTimer);
      flushTimer = null;
    }
    if (flushing || results.length === 0) return flushing ?? Promise.resolve();
    const batch = results.splice(0, results.length);
    const rows = batch.map((r) => ({ ...r, delay: r.ok || r.attempt >= settings.maxAttempts ? null : retryDelayMs(r.attempt, settings) }));
    flushing = db
      .prepared(
        `update webhook_delivery d
            set status = case when x.ok then 'SUCCEEDED' when x.delay is null then 'FAILED' else 'PENDING' end,
                response_code = x.code, duration_ms = x.ms, error = left(x.error, 500),
                next_attempt_at = case when x.delay is null then null else now() + x.delay * interval '1 millisecond' end,
                leased_until = null, delivered_at = case when x.ok then now() end
           from jsonb_to_recordset(?::jsonb) as x(id int, attempt int, ok boolean, code int, ms int, error text, delay int)
          where d.id = x.id and d.attempt = x.attempt and d.status = 'PENDING'`,
        [JSON.stringify(rows)],
      )
      .then(
        () => undefined,
        (error: unknown) => log('recording webhook delivery results failed (the attempts will be repeated after their lease)', error),
      )
      .finally(() => {
        flushing = null;
        if (results.length > 0) scheduleFlush();
      });
    return flushing;
  };
  const scheduleFlush = () => {
    if (results.length >= FLUSH_SIZE) void flush();
    else flushTimer ??= setTimeout(() => void flush(), FLUSH_MS);
  };

  // A webhook's URL parsed and checked once, not at every delivery (bounded: webhooks are few).
  const targets = new Map<string, URL | string>();
  const targetOf = (text: string): URL | string => {
    let target = targets.get(text);
    if (target === undefined) {
      try {
        const url = new URL(text);
        target = isRefusedLiteral(url, settings.allowPrivate) ? `${url.hostname} is a private or loopback address` : url;
      } catch {
        target = 'the URL is not valid';
      }
      if (targets.size >= 1000) targets.clear();
      targets.set(text, target);
    }
    return target;
  };

  const send = (job: ClaimedDelivery): Promise<AttemptResult> => {
    const started = performance.now();
    const done = (code: number | null, error: string | null): AttemptResult => ({
      id: job.id,
      attempt: job.attempt,
      ok: error === null,
      code,
      ms: Math.round(performance.now() - started),
      error,
    });
    const target = targetOf(job.url);
    if (typeof target === 'string') return Promise.resolve(done(null, target));
    const url = target;
    const body = job.body;
    const timestamp = Math.floor(Date.now() / 1000);
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'Mulu-Webhooks/1',
      [WEBHOOK_HEADERS.eventId]: String(job.eventId),
      [WEBHOOK_HEADERS.eventType]: job.type,
      [WEBHOOK_HEADERS.attempt]: String(job.attempt),
      [WEBHOOK_HEADERS.timestamp]: String(timestamp),
      [WEBHOOK_HEADERS.signature]: signWebhookBody(job.secret, timestamp, body),
    };
    // A dispatch handler rather than request(): no Readable stream and promise per answer, whose body is
    // read only to be dropped (the answer's code is all a delivery records).
    return new Promise<AttemptResult>((resolveResult) => {
      let code: number | null = null;
      let received = 0;
      let settled = false;
      let bodyDeadline: NodeJS.Timeout | undefined;
      const settle = (result: AttemptResult) => {
        clearTimeout(bodyDeadline);
        if (settled) return;
        settled = true;
        resolveResult(result);
      };
      // Redirects are never followed (a receiver could point them at an internal address): a 3xx is a failed attempt.
      const verdict = (status: number) =>
        status >= 200 && status < 300 ? null : status >= 300 && status < 400 ? `answered ${status} (redirects are not followed)` : `answered ${status}`;
      try {
        agent.dispatch(
          { origin: url.origin, path: url.pathname + url.search, method: 'POST', headers, body },
          {
            // Its presence selects undici's handler interface of onResponse* callbacks.
            onRequestStart: () => undefined,
            onResponseStart: (controller, statusCode) => {
              if (statusCode < 200) {
                // An informational answer (102 Processing, 103 Early Hints) is not the answer, and undici restarts its
                // wait for the headers at each one (headersTimeout never fires while they keep coming). The final
                // answer must follow the first of them within the timeout, or the attempt failed without a code: it was
                // recorded as an answer 102, a code the receiver never gave as its answer.
                bodyDeadline ??= setTimeout(() => {
                  settle(done(null, `no final answer within ${settings.timeoutMs} ms (only informational ${statusCode} responses)`));
                  controller.abort(new Error('no final answer: connection closed'));
                }, settings.timeoutMs);
                bodyDeadline.unref();
                return;
              }
              clearTimeout(bodyDeadline);
              code = statusCode;
              // The whole answer's body within the receiver timeout too: bodyTimeout is the wait between two chunks,
              // so a receiver trickling a byte a second held this worker for the 18 hours of MAX_RESPONSE_BYTES.
              // As with a long answer, the connection is closed and the attempt counts by its code.
              bodyDeadline = setTimeout(() => {
                settle(done(statusCode, verdict(statusCode)));
                controller.abort(new Error('answer too slow: connection closed'));
              }, settings.timeoutMs);
              bodyDeadline.unref();
            },
            onResponseData: (controller, chunk) => {
              // The answer is read and dropped up to MAX_RESPONSE_BYTES; past that the connection is closed rather
              // than read on, and the attempt counts by its code alone.
              received += chunk.length;
              if (received > MAX_RESPONSE_BYTES && code !== null) {
                settle(done(code, verdict(code)));
                controller.abort(new Error('answer too long: connection closed'));
              }
            },
            onResponseEnd: () => settle(code === null ? done(null, 'no answer') : done(code, verdict(code))),
            onResponseError: (_controller, error) => settle(done(code, failureOf(error))),
          },
        );
      } catch (error) {
        settle(done(null, failureOf(error as Error)));
      }
    });
  };
  const failureOf = (error: Error & { code?: string }): string => {
    if (
      error instanceof undiciErrors.HeadersTimeoutError ||
      error instanceof undiciErrors.BodyTimeoutError ||
      error instanceof undiciErrors.ConnectTimeoutError
    )
      return `no answer within ${settings.timeoutMs} ms`;
    return error.code && !error.message.includes(error.code) ? `${error.code}: ${error.message}` : error.message;
  };

  const worker = async () => {
    while (!stopped) {
      const job = queue.shift();
      if (!job) {
        refill();
        await new Promise<void>((resolve) => idleWorkers.push(resolve));
        continue;
      }
      if (queue.length < concurrency) refill();
      const result = await send(job);
      if (cut) {
        released.push(job);
        continue;
      }
      results.push(result);
      scheduleFlush();
    }
  };
  const workers = Array.from({ length: concurrency }, () => worker());

  const unlisten = listener?.on(DELIVERIES_CHANNEL, wake);
  listener?.onReconnect(wake);
  const poll = setInterval(wake, settings.pollIntervalMs);
  poll.unref();

  let scanning: Promise<void> | null = null;
  const scan = () => {
    if (stopped || scanning) return;
    scanning = emitClockEvents(db)
      .then(
        () => undefined,
        (error: unknown) => log('writing the events of the clock failed', error),
      )
      .finally(() => {
        scanning = null;
      });
  };
  const scanTimer = setInterval(scan, settings.clockScanIntervalMs);
  scanTimer.unref();
  scan();
  // No wake() here: each worker's first turn finds the queue empty and claims (moreDue starts set).

  let stopping: Promise<void> | null = null;
  return {
    wake,
    stop: (graceMs = Number.POSITIVE_INFINITY) =>
      (stopping ??= (async () => {
        stopped = true;
        unlisten?.();
        clearInterval(poll);
        clearInterval(scanTimer);
        for (const resume of idleWorkers.splice(0)) resume();
        const finished = Promise.all([claiming, Promise.all(workers), scanning]).then(() => true);
        let timer: NodeJS.Timeout | undefined;
        const inTime = Number.isFinite(graceMs)
          ? await Promise.race([finished, new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), graceMs)))])
          : await finished;
        clearTimeout(timer);
        if (!inTime) {
          // The shutdown's grace period is over: cut the attempts in flight (their sockets close) and release them.
          cut = true;
          await agent.destroy();
          await finished;
        }
        // Claimed but not attempted (or cut): due again now, for whichever server is running. Only under this server's
        // claim (the attempt it claimed): one whose lease ran out may have been claimed again by another replica since.
        const unsent = [...queue.splice(0), ...released.splice(0)];
        if (unsent.length > 0) {
          await db
            .execute(
              `update webhook_delivery d set attempt = d.attempt - 1, leased_until = null
                 from unnest(?::int[], ?::int[]) as x(id, attempt)
                where d.id = x.id and d.attempt = x.attempt and d.status = 'PENDING'`,
              [unsent.map((j) => j.id), unsent.map((j) => j.attempt)],
            )
            .catch((error: unknown) => log('releasing claimed webhook deliveries failed (they are retried when their lease ends)', error));
        }
        while (results.length > 0 || flushing) await flush();
        await agent.destroy();
        await db.close();
      })()),
  };
}
