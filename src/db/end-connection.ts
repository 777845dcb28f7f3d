import type { Client } from 'pg';

/** How long ending a connection may wait for PostgreSQL to acknowledge before its socket is cut. */
export const END_CONNECTION_WAIT_MS = 1_000;

/**
 * Ends a connection of Mulu's own (not the pool's: the LISTEN connection,
 * the response cache's snapshot connection), without the `end` listener
 * that would treat it as lost, and cuts its socket if PostgreSQL does not
 * acknowledge within `waitMs`: a half-open connection (a failover, a
 * dropped route) never would, and a server stopping would wait for it.
 * Never rejects.
 */
export async function endConnection(connection: Client, waitMs = END_CONNECTION_WAIT_MS): Promise<void> {
  connection.removeAllListeners('end');
  let timer: NodeJS.Timeout | undefined;
  const cut = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      (connection as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
      resolve();
    }, waitMs);
    timer.unref();
  });
  await Promise.race([connection.end().catch(() => undefined), cut]);
  clearTimeout(timer);
}
