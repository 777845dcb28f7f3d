import WebSocket from 'ws';
import { addDirectory, createDepartment, createRegions, creditCode, HENAN_ANYANG_YINDU } from '../../support/builders';
import { startTestServer, type TestServer } from '../../support/test-server';

const FIGURES = `subscription($code: String!) { figuresChanged(regionCode: $code) { code mountStats { publishedDirectories mountedDirectories dataVolume } } }`;
const SUBSCRIBERS = 500;
const WRITES = 20;

/** A graphql-ws socket subscribed to a region's figures; keeps every payload it was sent. */
async function subscriber(api: TestServer, token: string) {
  const socket = new WebSocket(api.server.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
  const state = { payloads: [] as { data?: any; errors?: { extensions?: { code?: string } }[] }[], closeCode: null as number | null };
  socket.on('close', (code) => (state.closeCode = code));
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => {
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
    socket.on('message', (message) => {
      const parsed = JSON.parse(String(message)) as { type: string; payload?: any };
      if (parsed.type === 'connection_ack') resolve();
      if (parsed.type === 'next') state.payloads.push(parsed.payload);
    });
  });
  socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: FIGURES, variables: { code: '410505' } } }));
  return { socket, state };
}

const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;

/**
 * 500 graphql-ws subscribers to one region's figures and a burst of writes
 * below it: each subscriber's last push is the region's final figures (no
 * error), memory stays bounded, and once they all leave nothing of them is
 * left (sockets, timers).
 */
describe('500 subscribers to one region and a burst of writes', () => {
  let api: TestServer;
  const A = creditCode('410505', 1);

  beforeAll(async () => {
    api = await startTestServer({ maxQueryCost: 5000 });
    await createRegions(api, HENAN_ANYANG_YINDU);
    await createDepartment(api, { creditCode: A, name: '殷都区民政局', regionCode: '410505' });
  });
  afterAll(async () => {
    await api.close();
  });

  it('every subscriber gets the final figures, and closing them all frees every socket and timer', async () => {
    const timersBefore = timers();
    const subscribers: Awaited<ReturnType<typeof subscriber>>[] = [];
    for (let n = 0; n < SUBSCRIBERS; n++) subscribers.push(await subscriber(api, await api.signToken({ role: 'VIEWER', sub: `subscriber-${n}` })));
    await new Promise((resolve) => setTimeout(resolve, 500));
    const heapBefore = process.memoryUsage().heapUsed;
    const started = Date.now();
    const statementsBefore = api.sql.statements.length;
    for (let i = 0; i < WRITES; i++) await addDirectory(api, A, `BURST-${i}`, { publish: true });
    const final = (
      await api.ok<{ region: { code: string; mountStats: unknown } }>(
        `{ region(code: "410505") { code mountStats { publishedDirectories mountedDirectories dataVolume } } }`,
      )
    ).region;
    expect(final).toEqual({ code: '410505', mountStats: { publishedDirectories: WRITES, mountedDirectories: 0, dataVolume: 0 } });
    const last = () => subscribers.map((s) => s.state.payloads.at(-1));
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && !last().every((p) => JSON.stringify(p?.data?.figuresChanged) === JSON.stringify(final)))
      await new Promise((resolve) => setTimeout(resolve, 200));
    const heapAfter = process.memoryUsage().heapUsed;
    // A push reads the region's row once for all its subscribers (FiguresPush): 500 statements a push before.
    const regionReads = api.sql.statements.slice(statementsBefore).filter((sql) => /from region r left join region_figures/.test(sql)).length;
    const pushes = subscribers.reduce((sum, s) => sum + s.state.payloads.length, 0);
    const errors = subscribers.flatMap((s) => s.state.payloads.flatMap((p) => p.errors ?? []));
    console.log(
      `${SUBSCRIBERS} subscribers, ${WRITES} writes: all final after ${Date.now() - started} ms; ${pushes} pushes; ${regionReads} reads of the region's row; errors ${JSON.stringify(errors.slice(0, 3))} (${errors.length}); heap ${Math.round(heapBefore / 1e6)} -> ${Math.round(heapAfter / 1e6)} MB`,
    );
    expect(errors).toEqual([]);
    expect(last().map((p) => p?.data?.figuresChanged)).toEqual(Array.from({ length: SUBSCRIBERS }, () => final));
    // At most one push per write for each subscriber (fewer when writes come faster than one a second: coalesced), and
    // the region's row read about once per push, not once per subscriber.
    expect(Math.max(...subscribers.map((s) => s.state.payloads.length))).toBeLessThanOrEqual(WRITES + 1);
    expect(regionReads).toBeLessThan(SUBSCRIBERS);

    const connections = () =>
      new Promise<number>((resolve, reject) => api.server.httpServer.getConnections((error, n) => (error ? reject(error) : resolve(n))));
    // The subscribers' sockets, and the test's own HTTP requests' kept-alive ones.
    const open = await connections();
    expect(open).toBeGreaterThanOrEqual(SUBSCRIBERS);
    for (const s of subscribers) s.socket.close(1000);
    const closed = Date.now() + 10_000;
    while (Date.now() < closed && subscribers.some((s) => s.state.closeCode === null)) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(subscribers.filter((s) => s.state.closeCode === null)).toHaveLength(0);
    const drained = Date.now() + 5_000;
    while (Date.now() < drained && timers() > timersBefore) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(timers()).toBeLessThanOrEqual(timersBefore);
    const left = Date.now() + 5_000;
    while (Date.now() < left && (await connections()) > open - SUBSCRIBERS) await new Promise((resolve) => setTimeout(resolve, 100));
    // The subscribers' sockets are all gone; the test's own kept-alive ones may have closed too (idle for 1 s).
    expect(await connections()).toBeLessThanOrEqual(open - SUBSCRIBERS);
  }, 180_000);
});

/**
 * A server stopping (SIGTERM's drain, server.stop()) with subscribers
 * connected: each socket is closed with 1001 Going Away, which tells a
 * graphql-ws client to reconnect (to another replica), not an abnormal 1006
 * (no 'complete' is sent first: the close ends every subscription).
 */
describe('subscribers connected when the server stops', () => {
  it('closes each socket with 1001', async () => {
    const api = await startTestServer();
    try {
      await createRegions(api, HENAN_ANYANG_YINDU);
      const subscribers: Awaited<ReturnType<typeof subscriber>>[] = [];
      for (let n = 0; n < 5; n++) subscribers.push(await subscriber(api, await api.signToken({ role: 'VIEWER', sub: `leaving-${n}` })));
      await new Promise((resolve) => setTimeout(resolve, 300));
      await api.server.stop();
      const closed = Date.now() + 5_000;
      while (Date.now() < closed && subscribers.some((s) => s.state.closeCode === null)) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(subscribers.map((s) => s.state.closeCode)).toEqual([1001, 1001, 1001, 1001, 1001]);
    } finally {
      await api.close();
    }
  });
});
