import express from 'express';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { bulkLane } from '../../src/http/bulk-lane';

/**
 * The lane in front of a real HTTP server: a handler that reads the body,
 * holds it a while and answers, so the test can see how many large bodies
 * are being handled at once.
 */
describe('bulkLane', () => {
  let server: http.Server;
  let url: string;
  let insideLarge = 0;
  let peak = 0;
  const order: string[] = [];

  beforeAll(async () => {
    const app = express();
    app.post('/work', bulkLane(2, 1024), express.text({ limit: '1mb' }), async (req, res) => {
      const name = typeof req.query.name === 'string' ? req.query.name : '';
      const large = name !== 'small';
      if (large) peak = Math.max(peak, ++insideLarge);
      order.push(name);
      await new Promise((r) => setTimeout(r, 60));
      if (large) insideLarge--;
      res.json({ name: req.query.name, bytes: String(req.body).length });
    });
    server = http.createServer(app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/work`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const post = async (name: string, bytes: number) => {
    const response = await fetch(`${url}?name=${name}`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x'.repeat(bytes) });
    return { status: response.status, body: (await response.json()) as { name: string; bytes: number } };
  };

  it('handles at most two large bodies at once, in arrival order, and lets small ones through at once', async () => {
    peak = 0;
    order.length = 0;
    const large = ['a', 'b', 'c', 'd', 'e'].map((name) => post(name, 50_000));
    // While the large ones queue, a small request (a dashboard query) is not held back.
    await new Promise((r) => setTimeout(r, 20));
    const small = await post('small', 100);
    expect(small).toEqual({ status: 200, body: { name: 'small', bytes: 100 } });
    const results = await Promise.all(large);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(results.map((r) => r.body.bytes)).toEqual([50_000, 50_000, 50_000, 50_000, 50_000]);
    expect(peak).toBe(2);
    const largeOrder = order.filter((name) => name !== 'small');
    expect(largeOrder).toHaveLength(5);
    expect(order.indexOf('small')).toBeLessThan(order.indexOf('e'));
  });

  it('frees the slot of a client that hung up, so later bodies are still served', async () => {
    const controller = new AbortController();
    const abandoned = [1, 2, 3].map(() =>
      fetch(`${url}?name=gone`, { method: 'POST', body: 'x'.repeat(50_000), signal: controller.signal }).catch((error: Error) => error.name),
    );
    await new Promise((r) => setTimeout(r, 10));
    controller.abort();
    expect(await Promise.all(abandoned)).toEqual(['AbortError', 'AbortError', 'AbortError']);
    const later = await Promise.all(['f', 'g', 'h'].map((name) => post(name, 50_000)));
    expect(later.map((r) => r.body.name)).toEqual(['f', 'g', 'h']);
  });

  it('keeps the slot of a client that hung up until its handler has answered, so a retry does not run beside it', async () => {
    peak = 0;
    const controller = new AbortController();
    // Two large bodies are admitted and sent whole; their clients give up while the handlers still work (60 ms).
    const gone = ['x', 'y'].map((name) =>
      fetch(`${url}?name=${name}`, { method: 'POST', body: 'x'.repeat(50_000), signal: controller.signal }).catch((error: Error) => error.name),
    );
    await new Promise((r) => setTimeout(r, 20));
    controller.abort();
    expect(await Promise.all(gone)).toEqual(['AbortError', 'AbortError']);
    // The retries wait for those handlers to finish.
    const retries = await Promise.all(['x2', 'y2'].map((name) => post(name, 50_000)));
    expect(retries.map((r) => r.status)).toEqual([200, 200]);
    expect(peak).toBe(2);
  });
});
