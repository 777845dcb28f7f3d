import { EVENTS_CHANNEL, FIGURES_CHANNEL, type NotificationEventType } from './notification-event';
import type { PgListener } from './pg-listener';

/** At most one figuresChanged push per region per this many milliseconds. */
export const FIGURES_COALESCE_MS = 1000;

/** A request event as the events channel carries it (emitEvents). */
export interface RequestEventMessage {
  id: number;
  type: NotificationEventType;
  departments: string[];
  occurredAt: string;
  data: { subscriptionRequest?: { id?: string } } & Record<string, unknown>;
}

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
        // Coalescing: a push while one is unread adds nothing, the reader will read the latest figures.
        items.push(item);
      }
    },
    iterator,
  };
}

interface RegionWatch {
  feeds: Set<Feed<string>>;
  lastPush: number;
  timer: NodeJS.Timeout | null;
}

/**
 * What GraphQL subscriptions listen to, for one server: changed region
 * figures and request events, both from PostgreSQL notifications (sent at
 * commit by any replica, so every replica's subscribers hear every change).
 */
export function createLiveUpdates(listener: PgListener | null, coalesceMs: number = FIGURES_COALESCE_MS) {
  const regions = new Map<string, RegionWatch>();
  const eventFeeds = new Set<{ department: string | null; feed: Feed<RequestEventMessage> }>();

  const fire = (code: string, watch: RegionWatch) => {
    watch.timer = null;
    watch.lastPush = Date.now();
    for (const f of watch.feeds) f.push(code);
  };
  const changed = (code: string) => {
    const watch = regions.get(code);
    if (!watch || watch.timer) return;
    const wait = watch.lastPush + coalesceMs - Date.now();
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
  const unlistenEvents = listener?.on(EVENTS_CHANNEL, (payload) => {
    let message: RequestEventMessage;
    try {
      message = JSON.parse(payload) as RequestEventMessage;
    } catch {
      return;
    }
    for (const { department, feed: f } of eventFeeds) {
      if (department === null || message.departments.includes(department)) f.push(message);
    }
  });

  return {
    /** Yields the region code each time the region's figures changed, at most once per `coalesceMs`. */
    figuresOf(regionCode: string): AsyncIterableIterator<string> {
      let watch = regions.get(regionCode);
      if (!watch) regions.set(regionCode, (watch = { feeds: new Set(), lastPush: 0, timer: null }));
      const w = watch;
      const f = feed<string>(
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
      unlistenFigures?.();
      unlistenEvents?.();
      for (const watch of [...regions.values()]) for (const f of [...watch.feeds]) void f.iterator.return!();
      for (const { feed: f } of [...eventFeeds]) void f.iterator.return!();
    },
  };
}

export type LiveUpdates = ReturnType<typeof createLiveUpdates>;
