import http from 'node:http';
import type { Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { startServer, type MuluServer } from '../../../src/app';
import { DEFAULT_DISPATCHER_SETTINGS, startDispatcher } from '../../../src/modules/notifications/webhook-dispatcher';
import { addDirectory, createDepartment, createRegions, creditCode } from '../../support/builders';
import { startTestServer, type TestServer } from '../../support/test-server';

/**
 * A server stopping (SIGTERM: main.ts calls stop()) must stop within its
 * grace period even while a webhook receiver hangs and GraphQL
 * subscriptions are open; the attempt it cuts is released, not counted.
 */
describe('shutdown with webhooks and subscriptions in flight', () => {
  let api: TestServer;
  let hanging: http.Server;
  const sockets = new Set<Socket>();
  let posts = 0;
  const A = creditCode('410505', 1);

  beforeAll(async () => {
    // A receiver that takes every POST and never answers.
    hanging = http.createServer(() => {
      posts++;
    });
    hanging.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    // This server registers and writes; it sends nothing (the server under test does).
    api = await startTestServer({ webhookDispatcher: false, webhooks: { allowPrivate: true } });
    await createRegions(api, [
      { code: '410000', name: '河南省' },
      { code: '410500', name: '安阳市' },
      { code: '410505', name: '殷都区' },
    ]);
    await createDepartment(api, { creditCode: A, name: '殷都区民政局', regionCode: '410505' });
    await api.ok(`mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { secret } }`, {
      input: { url: `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/hook`, events: ['DIRECTORY_PUBLISHED'] },
    });
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => hanging.close(() => resolve()));
    await api.close();
  });

  it('stops within the grace period: the hanging attempt is cut and released, subscriptions are closed', async () => {
    const graceMs = 500;
    const server: MuluServer = await startServer(api.orm, 0, api.authenticator, {
      webhooks: { allowPrivate: true, pollIntervalMs: 50, timeoutMs: 60_000 },
      shutdownGraceMs: graceMs,
    });
    const closed: number[] = [];
    const client = createClient({
      url: server.url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${api.adminToken}` },
      retryAttempts: 0,
      lazy: false,
      onNonLazyError: () => undefined,
      on: { closed: (event) => closed.push((event as { code: number }).code) },
    });
    const ended = new Promise<void>((resolve) => {
      client.subscribe(
        { query: 'subscription { figuresChanged(regionCode: "410505") { code } }' },
        { next: () => undefined, error: () => resolve(), complete: () => resolve() },
      );
    });
    try {
      await addDirectory(api, A, 'D-HANG');
      const deadline = Date.now() + 10_000;
      while (posts === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(posts).toBe(1);

      const started = Date.now();
      await server.stop();
      const took = Date.now() - started;
      // The grace period and some slack for closing pools, far below the receiver timeout (60 s).
      expect(took).toBeGreaterThanOrEqual(graceMs - 50);
      expect(took).toBeLessThan(graceMs + 3_000);
      await ended;
      expect(closed.length).toBe(1);

      // The cut attempt is not counted: the delivery is due again at once for whichever server runs next.
      const [delivery] = await api.orm.em
        .fork()
        .execute(`select status, attempt, next_attempt_at <= now() and leased_until is null as due from webhook_delivery`);
      expect(delivery).toEqual({ status: 'PENDING', attempt: 0, due: true });
    } finally {
      await client.dispose();
      await server.stop();
    }
  });

  it("releases only its own claims: a delivery another replica claimed after this one's lease ran out keeps that replica's lease and attempt", async () => {
    await api.orm.em.fork().execute(`delete from webhook_delivery`);
    posts = 0;
    const settings = { ...DEFAULT_DISPATCHER_SETTINGS, concurrency: 1, allowPrivate: true, pollIntervalMs: 50, timeoutMs: 60_000 };
    const url = api.orm.config.get('clientUrl')!;
    // Replica A claims both deliveries: one in flight (the receiver hangs), one waiting in its queue.
    const a = startDispatcher(url, null, settings, () => undefined);
    let replicaB: ReturnType<typeof startDispatcher> | null = null;
    try {
      await addDirectory(api, A, 'D-LEASE-1');
      await addDirectory(api, A, 'D-LEASE-2');
      const leased = async () =>
        api.orm.em
          .fork()
          .execute<{ id: number; attempt: number; leased: boolean }[]>(
            `select id, attempt, coalesce(leased_until > now(), false) as leased from webhook_delivery order by id`,
          );
      for (let i = 0; i < 200 && (await leased()).filter((d) => d.leased).length < 2; i++) await new Promise((r) => setTimeout(r, 25));
      expect(await leased()).toEqual([expect.objectContaining({ attempt: 1, leased: true }), expect.objectContaining({ attempt: 1, leased: true })]);
      // A's lease runs out (a replica stalled past it); replica B claims both.
      await api.orm.em.fork().execute(`update webhook_delivery set leased_until = now() - interval '1 second'`);
      replicaB = startDispatcher(url, null, settings, () => undefined);
      for (let i = 0; i < 200 && (await leased()).filter((d) => d.leased).length < 2; i++) await new Promise((r) => setTimeout(r, 25));
      expect(await leased()).toEqual([expect.objectContaining({ attempt: 2, leased: true }), expect.objectContaining({ attempt: 2, leased: true })]);
      // A stops, cutting its attempt and releasing what it claimed: B's claims are not A's to release.
      await a.stop(100);
      expect(await leased()).toEqual([expect.objectContaining({ attempt: 2, leased: true }), expect.objectContaining({ attempt: 2, leased: true })]);
    } finally {
      await a.stop(0);
      await replicaB?.stop(0);
      for (const socket of sockets) socket.destroy();
    }
  });
});
