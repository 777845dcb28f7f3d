import { Client } from 'pg';
import { endConnection } from '../../db/end-connection';
import { logger } from '../../observability/logger';

export type NotificationHandler = (payload: string) => void;

export interface PgListener {
  /** Calls `handler` with every notification on `channel` (LISTENs on first use). */
  on(channel: string, handler: NotificationHandler): () => void;
  /** Called after a reconnect: notifications sent while disconnected were lost, so readers re-check. */
  onReconnect(handler: () => void): void;
  /** Whether the connection is open and listening now (false from its loss until it is back), for readiness. */
  listening(): boolean;
  close(): Promise<void>;
}

/**
 * How often the listening connection must answer a statement, and within
 * how long. A connection cut without a word (a NAT or firewall dropping an
 * idle flow, a route lost, the database's host gone) reports nothing and
 * delivers nothing: only a question it cannot answer tells.
 */
export const LISTENER_CHECK = { everyMs: 30_000, answerMs: 10_000 };

/** The name its connection gives PostgreSQL (pg_stat_activity's application_name), for operators and the tests that cut it. */
export const LISTENER_APPLICATION_NAME = 'mulu-listener';

/**
 * One PostgreSQL connection per server that LISTENs for Mulu's channels
 * (outbox deliveries, request events, changed figures). A lost connection
 * (database restart, failover, or one that stopped answering LISTENER_CHECK)
 * is reopened after a second, and `onReconnect` handlers catch up on what
 * was sent meanwhile.
 */
export function createPgListener(
  connectionString: string,
  log: (message: string) => void = (m) => logger.warn({ component: 'notifications' }, m),
  check: { everyMs: number; answerMs: number } = LISTENER_CHECK,
): PgListener {
  const handlers = new Map<string, Set<NotificationHandler>>();
  const reconnectHandlers: (() => void)[] = [];
  let client: Client | null = null;
  let closed = false;
  let connecting: Promise<void> | null = null;
  let retry: NodeJS.Timeout | null = null;

  const connect = (): Promise<void> =>
    (connecting ??= (async () => {
      const next = new Client({ connectionString, application_name: LISTENER_APPLICATION_NAME });
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

  let checking = false;
  const heartbeat = setInterval(() => {
    const current = client;
    if (!current || checking) return;
    checking = true;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), check.answerMs)));
    void Promise.race([
      current.query('select 1').then(
        () => true,
        () => false,
      ),
      late,
    ]).then((answered) => {
      clearTimeout(timer);
      checking = false;
      if (answered || closed || client !== current) return;
      log(`[notifications] the listening connection did not answer within ${check.answerMs} ms; reconnecting.`);
      drop(current);
    });
  }, check.everyMs);
  heartbeat.unref();

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
    listening() {
      return client !== null;
    },
    async close() {
      closed = true;
      clearInterval(heartbeat);
      if (retry) clearTimeout(retry);
      await connecting?.catch(() => undefined);
      const current = client;
      client = null;
      if (current) await endConnection(current);
    },
  };
}
