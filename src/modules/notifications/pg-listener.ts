import { Client } from 'pg';
import { endConnection } from '../../db/end-connection';
import { logger } from '../../observability/logger';

export type NotificationHandler = (payload: string) => void;

export interface PgListener {
  /** Calls `handler` with every notification on `channel` (LISTENs on first use). */
  on(channel: string, handler: NotificationHandler): () => void;
  /** Called after a reconnect: notifications sent while disconnected were lost, so readers re-check. */
  onReconnect(handler: () => void): void;
  close(): Promise<void>;
}

/**
 * One PostgreSQL connection per server that LISTENs for Mulu's channels
 * (outbox deliveries, request events, changed figures). A lost connection
 * (database restart, failover) is reopened after a second; whoever relies on
 * it also polls, so nothing waits for it.
 */
export function createPgListener(connectionString: string, log: (message: string) => void = (m) => logger.warn({ component: 'notifications' }, m)): PgListener {
  const handlers = new Map<string, Set<NotificationHandler>>();
  const reconnectHandlers: (() => void)[] = [];
  let client: Client | null = null;
  let closed = false;
  let connecting: Promise<void> | null = null;
  let retry: NodeJS.Timeout | null = null;

  const connect = (): Promise<void> =>
    (connecting ??= (async () => {
      const next = new Client({ connectionString });
      next.on('error', (error) => {
        if (closed) return;
        log(`[notifications] the listening connection failed (${error.message}); reconnecting.`);
        drop(next);
      });
      next.on('end', () => drop(next));
      next.on('notification', (message) => {
        for (const handler of handlers.get(message.channel) ?? []) handler(message.payload ?? '');
      });
      try {
        await next.connect();
        for (const channel of handlers.keys()) await next.query(`listen "${channel}"`);
        if (closed) {
          await endConnection(next);
          return;
        }
        const reconnected = client === null && everConnected;
        client = next;
        everConnected = true;
        if (reconnected) for (const handler of reconnectHandlers) handler();
      } catch (error) {
        await endConnection(next);
        if (!closed) schedule();
        if (!everConnected) throw error;
      } finally {
        connecting = null;
      }
    })());
  let everConnected = false;

  const drop = (which: Client) => {
    if (client === which) client = null;
    void endConnection(which);
    if (!closed) schedule();
  };
  const schedule = () => {
    if (retry) return;
    retry = setTimeout(() => {
      retry = null;
      connect().catch(() => undefined);
    }, 1000);
    retry.unref();
  };

  const ready = connect();
  ready.catch(() => undefined);

  return {
    on(channel, handler) {
      let set = handlers.get(channel);
      if (!set) {
        handlers.set(channel, (set = new Set()));
        const current = client;
        if (current) current.query(`listen "${channel}"`).catch(() => undefined);
      }
      set.add(handler);
      return () => set!.delete(handler);
    },
    onReconnect(handler) {
      reconnectHandlers.push(handler);
    },
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      await connecting?.catch(() => undefined);
      const current = client;
      client = null;
      if (current) await endConnection(current);
    },
  };
}
