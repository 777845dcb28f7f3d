import { EVENTS_CHANNEL, FIGURES_CHANNEL, NotificationEventType } from '../../../src/modules/notifications/notification-event';
import { createLiveUpdates, type RequestEventMessage } from '../../../src/modules/notifications/live-updates';
import { keyCheck, KEY_RECHECK_MS } from '../../../src/graphql/websocket';
import { unauthenticated } from '../../../src/core/errors';
import type { NotificationHandler, PgListener } from '../../../src/modules/notifications/pg-listener';

const event = (id: number): RequestEventMessage => ({
  id,
  type: NotificationEventType.SUBSCRIPTION_REQUESTED,
  departments: ['A'],
  occurredAt: '2026-12-01T00:00:00Z',
  data: {},
});

/**
 * After the listening connection came back, the request events written
 * while it was away are read from the outbox; a notification heard while
 * that read runs (the connection listens again) is of a later event, and is
 * pushed after them, not before.
 */
describe('live updates catching up after a reconnect', () => {
  it('pushes the events read from the outbox and those heard during the read in id order, each once', async () => {
    const handlers = new Map<string, NotificationHandler>();
    let reconnected: () => void = () => undefined;
    const listener: PgListener = {
      on: (channel, handler) => {
        handlers.set(channel, handler);
        return () => handlers.delete(channel);
      },
      onReconnect: (handler) => (reconnected = handler),
      listening: () => true,
      close: async () => undefined,
    };
    let release: () => void = () => undefined;
    const outboxRead = new Promise<void>((resolve) => (release = resolve));
    let reading = false;
    const live = createLiveUpdates(listener, async (sql) => {
      if (sql.includes('max(id)')) return [{ id: 10 }];
      reading = true;
      await outboxRead;
      return [event(11), event(12), event(13)];
    });
    const events = live.requestEvents('A');
    await new Promise((resolve) => setImmediate(resolve)); // the outbox's latest id read
    reconnected();
    while (!reading) await new Promise((resolve) => setImmediate(resolve));
    // Heard while the outbox is read: 13, committed meanwhile (also read), and 14, committed after.
    handlers.get(EVENTS_CHANNEL)!(JSON.stringify(event(13)));
    handlers.get(EVENTS_CHANNEL)!(JSON.stringify(event(14)));
    release();
    const ids: number[] = [];
    for (let i = 0; i < 4; i++) ids.push(((await events.next()).value as RequestEventMessage).id);
    expect(ids).toEqual([11, 12, 13, 14]);
    live.close();
    expect(await events.next()).toEqual({ value: undefined, done: true });
  });

  it('reads the outbox again when the read after a reconnect failed, until it succeeds (it was only logged)', async () => {
    let reconnected: () => void = () => undefined;
    const listener: PgListener = {
      on: () => () => undefined,
      onReconnect: (handler) => (reconnected = handler),
      listening: () => true,
      close: async () => undefined,
    };
    let reads = 0;
    const live = createLiveUpdates(
      listener,
      async (sql) => {
        if (sql.includes('max(id)')) return [{ id: 10 }];
        // The pool is still finding its connections dead: the first two reads fail.
        if (++reads <= 2) throw new Error('Connection terminated unexpectedly');
        return [event(11), event(12)];
      },
      1000,
      50,
    );
    const events = live.requestEvents('A');
    await new Promise((resolve) => setImmediate(resolve)); // the outbox's latest id read
    reconnected();
    const ids: number[] = [];
    for (let i = 0; i < 2; i++) ids.push(((await events.next()).value as RequestEventMessage).id);
    expect(ids).toEqual([11, 12]);
    expect(reads).toBe(3);
    live.close();
  });
});

/**
 * The wall clock set back (NTP stepping it, a VM resumed) between two
 * changes of a region: the second is pushed after the coalescing wait, as
 * always. The wait was computed from the wall clock, so it lasted as long as
 * the step (here an hour).
 */
describe('live updates when the wall clock is set back', () => {
  it("pushes a region's next change within the coalescing wait, not the step's length later", async () => {
    const handlers = new Map<string, NotificationHandler>();
    const listener: PgListener = {
      on: (channel, handler) => {
        handlers.set(channel, handler);
        return () => handlers.delete(channel);
      },
      onReconnect: () => undefined,
      listening: () => true,
      close: async () => undefined,
    };
    const live = createLiveUpdates(listener, null, 100);
    const figures = live.figuresOf('410505');
    const wallClock = jest.spyOn(Date, 'now');
    try {
      handlers.get(FIGURES_CHANNEL)!('410505');
      expect((await figures.next()).value?.regionCode).toBe('410505');
      // An hour back, from now on.
      const setBack = Date.now() - 3_600_000;
      wallClock.mockImplementation(() => setBack);
      handlers.get(FIGURES_CHANNEL)!('410505');
      const next = await Promise.race([figures.next(), new Promise<'not pushed'>((done) => setTimeout(() => done('not pushed'), 2000))]);
      expect(next === 'not pushed' ? next : next.value?.regionCode).toBe('410505');
    } finally {
      wallClock.mockRestore();
      live.close();
    }
  });

  it("checks an API key's graphql-ws connection again after KEY_RECHECK_MS, not once the clock has caught up (a revoked key kept its pushes)", async () => {
    let revoked = false;
    const check = keyCheck(async () => {
      if (revoked) throw unauthenticated('This API key has been revoked.');
    });
    const wallClock = jest.spyOn(Date, 'now');
    try {
      const setBack = Date.now() - 3_600_000;
      wallClock.mockImplementation(() => setBack);
      revoked = true;
      await new Promise((done) => setTimeout(done, KEY_RECHECK_MS + 100));
      expect(await check()).toBe(false);
    } finally {
      wallClock.mockRestore();
    }
  });
});
