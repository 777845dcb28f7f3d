import { atMostConcurrently } from '../../src/graphql/concurrency';

const action = {} as never;

describe('atMostConcurrently', () => {
  it('runs at most `limit` calls at once, the rest in arrival order, and frees the slot of a failed call', async () => {
    const limit = atMostConcurrently(2);
    let running = 0;
    let peak = 0;
    const started: number[] = [];
    const call = (n: number, fail = false) =>
      limit(action, async () => {
        running++;
        peak = Math.max(peak, running);
        started.push(n);
        await new Promise((r) => setTimeout(r, 20));
        running--;
        if (fail) throw new Error(`call ${n} failed`);
        return n;
      });
    const results = await Promise.allSettled([call(1), call(2, true), call(3), call(4), call(5)]);
    expect(peak).toBe(2);
    expect(started).toEqual([1, 2, 3, 4, 5]);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([1, 'call 2 failed', 3, 4, 5]);
    // Every slot was given back: two more calls start at once.
    const startedAt: number[] = [];
    await Promise.all([1, 2].map(() => limit(action, async () => void startedAt.push(Date.now()))));
    expect(startedAt).toHaveLength(2);
    expect(running).toBe(0);
  });
});
