import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One POST the receiver got. */
export interface ReceivedWebhook {
  headers: http.IncomingHttpHeaders;
  rawBody: string;
  body: { id: string; type: string; occurredAt: string; data: Record<string, any> };
  /** The status the receiver answered. */
  answered: number;
}

/**
 * A real HTTP receiver in the test process. `respond` picks the status of
 * each POST (200 unless told); `received` keeps every POST in order.
 */
export interface WebhookReceiver {
  url: string;
  port: number;
  received: ReceivedWebhook[];
  respond: (request: { eventId: string; attempt: number; count: number }) => number;
  /** The POSTs answered 2xx, one per event id (what a deduplicating receiver keeps). */
  accepted(): ReceivedWebhook[];
  /** Waits until `predicate` holds (checked on every POST and every 50 ms), failing after `timeoutMs`. */
  waitFor(predicate: (received: ReceivedWebhook[]) => boolean, timeoutMs?: number, what?: string): Promise<void>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(port = 0): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const perEvent = new Map<string, number>();
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const eventId = String(request.headers['mulu-event-id']);
      const count = (perEvent.get(eventId) ?? 0) + 1;
      perEvent.set(eventId, count);
      const answered = receiver.respond({ eventId, attempt: Number(request.headers['mulu-delivery-attempt']), count });
      received.push({ headers: request.headers, rawBody, body: JSON.parse(rawBody), answered });
      response.writeHead(answered, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const actualPort = (server.address() as AddressInfo).port;
  const receiver: WebhookReceiver = {
    url: `http://127.0.0.1:${actualPort}/hook`,
    port: actualPort,
    received,
    respond: () => 200,
    accepted() {
      const seen = new Map<string, ReceivedWebhook>();
      for (const r of received) if (r.answered < 300 && !seen.has(r.body.id)) seen.set(r.body.id, r);
      return [...seen.values()];
    },
    async waitFor(predicate, timeoutMs = 20_000, what = 'the expected webhooks') {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(received)) {
        if (Date.now() > deadline)
          throw new Error(`Timed out waiting for ${what}; received ${JSON.stringify(received.map((r) => [r.body.type, r.body.id, r.answered]))}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return receiver;
}

/** A port nothing listens on (found by listening and closing). */
export async function freePort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
