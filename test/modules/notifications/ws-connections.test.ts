import WebSocket from 'ws';
import { CLOSE_CODES, MAX_CONNECTIONS_PER_CALLER } from '../../../src/graphql/websocket';
import { startTestServer, type TestServer } from '../../support/test-server';

/** A raw graphql-ws connection signed in with `token`: resolves once acknowledged or closed, with how it ended. */
async function connect(api: TestServer, token: string) {
  const socket = new WebSocket(api.server.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
  socket.on('error', () => undefined);
  const outcome = await new Promise<{ acknowledged: boolean; closeCode: number | null; reason: string }>((resolve) => {
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
    socket.on('message', (message) => {
      if (String(message).includes('connection_ack')) resolve({ acknowledged: true, closeCode: null, reason: '' });
    });
    socket.on('close', (code, reason) => resolve({ acknowledged: false, closeCode: code, reason: String(reason) }));
  });
  const closed = () =>
    new Promise<void>((resolve) => {
      if (socket.readyState === WebSocket.CLOSED) return resolve();
      socket.on('close', () => resolve());
      socket.close();
    });
  return { ...outcome, closed };
}

/**
 * Each graphql-ws connection holds a socket for as long as its client
 * answers pings. One caller could open one per request its rate limit allows
 * and keep them all, until the process had no descriptors left for anyone:
 * a caller holds at most MAX_CONNECTIONS_PER_CALLER at once per process.
 */
describe('graphql-ws connections of one caller', () => {
  let api: TestServer;
  beforeAll(async () => {
    api = await startTestServer();
  });
  afterAll(() => api.close());

  it(`are at most ${MAX_CONNECTIONS_PER_CALLER} at once; the next is closed 4429, others are not affected, and a closed one frees its place`, async () => {
    const token = await api.signToken({ role: 'VIEWER', sub: 'socket-hoarder' });
    const held = [];
    for (let i = 0; i < MAX_CONNECTIONS_PER_CALLER; i++) held.push(await connect(api, token));
    expect(held.filter((c) => !c.acknowledged)).toEqual([]);

    const over = await connect(api, token);
    expect({ acknowledged: over.acknowledged, closeCode: over.closeCode, reason: over.reason }).toEqual({
      acknowledged: false,
      closeCode: CLOSE_CODES.rateLimited,
      reason: `You already hold ${MAX_CONNECTIONS_PER_CALLER} open connections, the most one caller may; close one first.`,
    });
    const other = await connect(api, await api.signToken({ role: 'VIEWER', sub: 'someone-else' }));
    expect(other.acknowledged).toBe(true);

    await held.pop()!.closed();
    // The server counts the close when it hears it: give it a moment.
    let again = await connect(api, token);
    for (let tries = 0; !again.acknowledged && tries < 20; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      again = await connect(api, token);
    }
    expect(again.acknowledged).toBe(true);
    await Promise.all([...held, other, again].map((c) => c.closed()));
  });
});
