/**
 * The webhook benchmark's receiver (test/bench/webhooks.ts starts it): a
 * process of its own, as a real receiver would be on another machine, so its
 * CPU is not taken from the server's event loop and can be counted apart.
 * It does what a receiver must: deduplicates on the event id and answers
 * 200, and verifies the signature with the secret in WEBHOOK_SECRET (reading
 * the body first) of one POST in WEBHOOK_VERIFY_EVERY (default 10, the
 * first included; 1: every one): a wrong signature shows within ten
 * deliveries, and the receiver's CPU, which a real one spends on another
 * machine, weighs less on the shared one. `GET /count` answers what it has
 * seen; it prints its URL on stdout once it listens.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhookSignature, WEBHOOK_HEADERS } from '../../src/modules/notifications/webhook-signature';

const secret = process.env.WEBHOOK_SECRET ?? '';
const verifyEvery = Math.max(1, Number(process.env.WEBHOOK_VERIFY_EVERY ?? 10));
const seen = new Set<string>();
let arrived = 0;
let received = 0;
let verified = 0;
let badSignatures = 0;

const server = http.createServer((request, response) => {
  if (request.method === 'GET') {
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ received, unique: seen.size, verified, badSignatures }));
    return;
  }
  const header = (name: string) => request.headers[name] as string | undefined;
  if (arrived++ % verifyEvery !== 0) {
    // Not in the sample: answered at once, the body read and dropped by the server.
    received++;
    seen.add(header(WEBHOOK_HEADERS.eventId) ?? '');
    response.writeHead(200).end();
    return;
  }
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    verified++;
    if (!verifyWebhookSignature(secret, { timestamp: header(WEBHOOK_HEADERS.timestamp), signature: header(WEBHOOK_HEADERS.signature) }, body)) {
      badSignatures++;
      response.writeHead(401).end();
      return;
    }
    received++;
    seen.add(header(WEBHOOK_HEADERS.eventId) ?? '');
    response.writeHead(200).end();
  });
});
// The dispatcher keeps its connections open between deliveries: keep them longer than its pauses.
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`http://127.0.0.1:${(server.address() as AddressInfo).port}/hook\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
