import express from 'express';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { bulkLane } from '../../src/http/bulk-lane';

/** Resolves once `condition` holds (checked every few ms); fails after the deadline, naming what it waited for. */
async function until(condition: () => boolean, what: string, deadlineMs = 20_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`waited ${deadlineMs} ms for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/**
 * The lane in front of a real HTTP server. Each request is named; the server
 * records when it reaches the lane, when the lane lets it on, when its
 * handler starts, and when its client hung up. A large body's handler holds
 * until the test releases its name, so every step waits on what the server
 * did, never on a sleep.
 */
describe('bulkLane', () => {
  let server: http.Server;
  let url: string;
  const seen = { arrived: [] as string[], admitted: [] as string[], handled: [] as string[], hungUp: [] as string[] };
  let insideLarge = 0;
  let peak = 0;
  const held = new Map<string, () => void>();
  const released = new Set<string>();
  /** Lets the handlers of these names answer, now or as soon as they start. */
  const release = (...names: string[]) => {
    for (const name of names) {
      released.add(name);
      held.get(name)?.();
      held.delete(name);
    }
  };
  const nameOf = (req: express.Request) => (typeof req.query.name === 'string' ? req.query.name : '');

  beforeAll(async () => {
    const app = express();
    const arrive: express.RequestHandler = (req, _res, next) => {
      seen.arrived.push(nameOf(req));
      next();
    };
    // Runs in the tick the lane lets the request on (before its body is read).
    const admitted: express.RequestHandler = (req, _res, next) => {
      seen.admitted.push(nameOf(req));
      next();
    };
    app.post('/work', arrive, bulkLane(2, 1024), admitted, express.text({ limit: '1mb' }), async (req, res) => {
      const name = nameOf(req);
      const large = name !== 'small';
      seen.handled.push(name);
      res.once('close', () => {
        if (!res.writableFinished) seen.hungUp.push(name);
      });
      if (large) {
        peak = Math.max(peak, ++insideLarge);
        if (!released.has(name)) await new Promise<void>((resolve) => held.set(name, resolve));
        insideLarge--;
      }
      res.json({ name, bytes: String(req.body).length });
    });
    server = http.createServer(app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/work`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  beforeEach(() => {
    for (const list of Object.values(seen)) list.length = 0;
    peak = 0;
  });

  const post = async (name: string, bytes: number, signal?: AbortSignal) => {
    const response = await fetch(`${url}?name=${name}`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x'.repeat(bytes), signal });
    return { status: response.status, body: (await response.json()) as { name: string; bytes: number } };
  };
  const abandon = (name: string, signal: AbortSignal) => post(name, 50_000, signal).catch((error: Error) => error.name);
  const has = (list: string[], ...names: string[]) => names.every((name) => list.includes(name));

  it('handles at most two large bodies at once, in arrival order, and lets small ones through at once', async () => {
    const large: ReturnType<typeof post>[] = [];
    for (const name of ['a', 'b', 'c', 'd', 'e']) {
      large.push(post(name, 50_000));
      await until(() => has(seen.arrived, name), `${name} reached the lane`);
    }
    await until(() => has(seen.handled, 'a', 'b'), 'a and b are handled');
    expect(seen.admitted).toEqual(['a', 'b']);
    // While the large ones queue, a small request (a dashboard query) is not held back.
    expect(await post('small', 100)).toEqual({ status: 200, body: { name: 'small', bytes: 100 } });
    // Each large body that is answered lets the next one on, in arrival order.
    for (const [answered, next] of [
      ['a', 'c'],
      ['b', 'd'],
      ['c', 'e'],
    ]) {
      release(answered);
      await until(() => has(seen.admitted, next), `${next} is let on after ${answered} was answered`);
    }
    release('d', 'e');
    const results = await Promise.all(large);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(results.map((r) => r.body.bytes)).toEqual([50_000, 50_000, 50_000, 50_000, 50_000]);
    expect(seen.admitted.filter((name) => name !== 'small')).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(peak).toBe(2);
  });

  it('frees the slot of a client that hung up, so later bodies are still served', async () => {
    const controller = new AbortController();
    const gone = ['gone1', 'gone2', 'gone3'];
    const abandoned = gone.map((name) => abandon(name, controller.signal));
    // Two take the slots, the third waits in line; then all three clients give up.
    await until(() => has(seen.arrived, ...gone), 'all three reached the lane');
    controller.abort();
    expect(await Promise.all(abandoned)).toEqual(['AbortError', 'AbortError', 'AbortError']);
    release(...gone, 'f', 'g', 'h');
    const later = await Promise.all(['f', 'g', 'h'].map((name) => post(name, 50_000)));
    expect(later.map((r) => r.body.name)).toEqual(['f', 'g', 'h']);
  });

  it('keeps the slot of a client that hung up until its handler has answered, so a retry does not run beside it', async () => {
    const controller = new AbortController();
    // Two large bodies are admitted and sent whole; their clients give up while the handlers still work.
    const gone = ['x', 'y'].map((name) => abandon(name, controller.signal));
    await until(() => has(seen.handled, 'x', 'y'), 'x and y are handled');
    controller.abort();
    expect(await Promise.all(gone)).toEqual(['AbortError', 'AbortError']);
    await until(() => has(seen.hungUp, 'x', 'y'), 'the server saw both clients leave');
    // The retries reach the lane and wait: the lane lets a request on in the tick it arrives, if a slot is free.
    release('x2', 'y2');
    const retries = ['x2', 'y2'].map((name) => post(name, 50_000));
    await until(() => has(seen.arrived, 'x2', 'y2'), 'the retries reached the lane');
    expect(seen.admitted).toEqual(['x', 'y']);
    release('x', 'y');
    expect((await Promise.all(retries)).map((r) => r.status)).toEqual([200, 200]);
    expect(seen.admitted).toEqual(['x', 'y', 'x2', 'y2']);
    expect(peak).toBe(2);
  });
});
