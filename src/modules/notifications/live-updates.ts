import { logger } from '../../observability/logger';
import { EVENTS_CHANNEL, FIGURES_CHANNEL, latestEventId, toldEventsAfter, type RequestEventMessage, type SqlExecutor } from './notification-event';
import type { PgListener } from './pg-listener';
import { elapsedMs } from '../../core/elapsed';

export type { RequestEventMessage } from './notification-event';

/** At most one figuresChanged push per region per this many milliseconds. */
export const FIGURES_COALESCE_MS = 1000;

/** How long after a failed catch-up (the outbox could not be read) it is tried again, until it succeeds. */
export const CATCH_UP_RETRY_MS = 1000;

/** How many of the last request events heard are remembered, so that one read again after a reconnect is not pushed twice. */
const HEARD_EVENTS_KEPT = 256;

/** An async iterator fed by pushes; `return()` (the client unsubscribed, the socket closed) unregisters it. */
interface Feed<T> {
  push(item: T): void;
  iterator: AsyncIterableIterator<T>;
}

function feed<T>(onClose: () => void, { coalesce }: { coalesce: boolean }): Feed<T> {
  const items: T[] = [];
  let waiting: ((result: IteratorResult<T>) => void) | null = null;
  let done = false;
  const close = () => {
    if (done) return;
    done = true;
    onClose();
    waiting?.({ value: undefined, done: true });
    waiting = null;
  };
  const iterator: AsyncIterableIterator<T> = {
    next() {
      if (items.length > 0) return Promise.resolve({ value: items.shift()!, done: false });
      if (done) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => (waiting = resolve));
    },
    return() {
      close();
      return Promise.resolve({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  return {
    push(item) {
      if (done) return;
      if (waiting) {
        const resolve = waiting;
        waiting = null;
        resolve({ value: item, done: false });
      } else if (!coalesce || items.length === 0) {
        items.push(item);
      } else {
        // Coalescing: a push while one is unread replaces it, so that the reader gets the latest (a push's shared read,
        // FiguresPush, may have been made before the later change).
        items[items.length - 1] = item;
      }
    },
    iterator,
  };
}

/**
 * One push of a region's changed figures, given to every subscriber of the
 * region. A region's row and stored figures are the same for every viewer:
 * the first subscriber to resolve the push reads them (`shared`), the
 * others are given that read, so a push costs one statement however many
 * subscribers it has (500 subscribers sent 500 statements for each push,
 * and a burst of writes queued behind them). Whatever else a subscriber's
 * document asks is read for it alone. The read starts after the push was
 * made, so after the change that caused it.
 */
export class FiguresPush {
  private read: Promise<unknown> | undefined;

  constructor(readonly regionCode: string) {}

  /** What `read` gives, read once for every subscriber of this push; a failed read is not shared (the next asks again). */
  shared<T>(read: () => Promise<T>): Promise<T> {
    if (!this.read) {
      const pending = read();
      this.read = pending;
      pending.catch(() => {
        if (this.read === pending) this.read = undefined;
      });
    }
    return this.read as Promise<T>;
  }
}

interface RegionWatch {
  feeds: Set<Feed<FiguresPush>>;
  /** When its last push went (elapsedMs: a wall clock set back would hold the next push for as long). */
  lastPush: number;
  timer: NodeJS.Timeout | null;
}

/**
 * What GraphQL subscriptions listen to, for one server: changed region
 * figures and request events, both from PostgreSQL notifications (sent at
 * commit by any replica, so every replica's subscribers hear every change).
 *
 * A notification sent while the listening connection was away (a database
 * restart, a cut connection) reaches no one, so when it is back every
 * watched region is pushed once (its figures may have changed) and the
 * request events written meanwhile are read from the outbox (`read`) and
 * pushed in id order; the ids last heard keep any of them from being pushed
 * twice.
 */
export function createLiveUpdates(
  listener: PgListener | null,
  read: SqlExecutor | null = null,
  coalesceMs: number = FIGURES_COALESCE_MS,
  catchUpRetryMs: number = CATCH_UP_RETRY_MS,
) {
  const regions = new Map<string, RegionWatch>();
  const eventFeeds = new Set<{ department: string | null; feed: Feed<RequestEventMessage> }>();
  let closed = false;

  const fire = (code: string, watch: RegionWatch) => {
    watch.timer = null;
    watch.lastPush = elapsedMs();
    const push = new FiguresPush(code);
    for (const f of watch.feeds) f.push(push);
  };
  const changed = (code: string) => {
    const watch = regions.get(code);
    if (!watch || watch.timer) return;
    const wait = watch.lastPush + coalesceMs - elapsedMs();
    if (wait <= 0) fire(code, watch);
    else {
      watch.timer = setTimeout(() => fire(code, watch), wait);
      watch.timer.unref();
    }
  };
  const unlistenFigures = listener?.on(FIGURES_CHANNEL, (payload) => {
    if (payload === '*') for (const code of regions.keys()) changed(code);
    else for (const code of payload.split(',')) changed(code);
  });

  // Every event id above `heardAbove` that is not in `heard` has not been pushed (yet): heard ones are kept, oldest first,
  // up to HEARD_EVENTS_KEPT, and `heardAbove` rises past the one let go. Null until the outbox's latest id is known.
  // Only the catch-up reads by it: a notification is pushed unless heard, whatever its id (ids are drawn before commit).
  let heardAbove: number | null = null;
  const heard = new Set<number>();
  const pushEvent = (message: RequestEventMessage) => {
    if (heard.has(message.id)) return;
    heard.add(message.id);
    if (heard.size > HEARD_EVENTS_KEPT) {
      const oldest = heard.values().next().value!;
      heard.delete(oldest);
      heardAbove = Math.max(heardAbove ?? 0, oldest);
    }
    for (const { department, feed: f } of eventFeeds) {
      if (department === null || message.departments.includes(department)) f.push(message);
    }
  };
  const startingPoint = () =>
    read === null
      ? Promise.resolve()
      : latestEventId(read).then((id) => {
          heardAbove ??= id;
        });
  const caughtUp = startingPoint().catch((error: unknown) =>
    logger.warn(
      { component: 'notifications', err: error },
      '[notifications] reading the latest event id failed; events missed before the next one is read are not pushed',
    ),
  );
  const unlistenEvents = listener?.on(EVENTS_CHANNEL, (payload) => {
    let message: RequestEventMessage;
    try {
      message = JSON.parse(payload) as RequestEventMessage;
    } catch {
      return;
    }
    if (held) held.push(message);
    else pushEvent(message);
  });
  // While the outbox is read after a reconnect, the notifications heard meanwhile (the connection listens again) are
  // held, then pushed with what was read in id order: pushed at once, they came before the older events read.
  let held: RequestEventMessage[] | null = null;
  const catchUp = async () => {
    if (closed) return;
    for (const code of regions.keys()) changed(code);
    if (read === null) return;
    // Held from the moment the connection is back (it listens before telling its readers).
    const mine = (held ??= []);
    let told: RequestEventMessage[] = [];
    try {
      await caughtUp;
      if (heardAbove === null) await startingPoint();
      else told = await toldEventsAfter(read, heardAbove);
    } finally {
      if (held === mine) held = null;
      for (const message of [...told, ...mine].sort((a, b) => a.id - b.id)) if (!closed) pushEvent(message);
    }
  };
  // A failed read is tried again (the events it missed stay above heardAbove) until one succeeds: before, it was
  // logged only, and the events written while the connection was away never reached their subscribers.
  let retry: NodeJS.Timeout | null = null;
  const catchUpUntilDone = () => {
    if (retry) clearTimeout(retry);
    retry = null;
    catchUp().catch((error: unknown) => {
      logger.warn(
        { component: 'notifications', err: error },
        `[notifications] reading the request events written while the listening connection was away failed; trying again in ${catchUpRetryMs} ms`,
      );
      if (closed) return;
      retry = setTimeout(catchUpUntilDone, catchUpRetryMs);
      retry.unref();
    });
  };
  listener?.onReconnect(catchUpUntilDone);

  return {
    /** Yields a push (FiguresPush) each time the region's figures changed, at most once per `coalesceMs`. */
    figuresOf(regionCode: string): AsyncIterableIterator<FiguresPush> {
      let watch = regions.get(regionCode);
      if (!watch) regions.set(regionCode, (watch = { feeds: new Set(), lastPush: -Infinity, timer: null }));
      const w = watch;
      const f = feed<FiguresPush>(
        () => {
          w.feeds.delete(f);
          if (w.feeds.size === 0) {
            if (w.timer) clearTimeout(w.timer);
            regions.delete(regionCode);
          }
        },
        { coalesce: true },
      );
      w.feeds.add(f);
      return f.iterator;
    },

    /** Yields request events that concern the department (every department for null). */
    requestEvents(departmentCreditCode: string | null): AsyncIterableIterator<RequestEventMessage> {
      const entry = { department: departmentCreditCode, feed: null as unknown as Feed<RequestEventMessage> };
      entry.feed = feed<RequestEventMessage>(() => eventFeeds.delete(entry), { coalesce: false });
      eventFeeds.add(entry);
      return entry.feed.iterator;
    },

    /** Ends every stream (server stop). */
    close(): void {
      closed = true;
      if (retry) clearTimeout(retry);
      unlistenFigures?.();
      unlistenEvents?.();
      for (const watch of [...regions.values()]) for (const f of [...watch.feeds]) void f.iterator.return!();
      for (const { feed: f } of [...eventFeeds]) void f.iterator.return!();
    },
  };
}

export type LiveUpdates = ReturnType<typeof createLiveUpdates>;
