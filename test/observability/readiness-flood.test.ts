import { READINESS_REUSE_MS } from '../../src/observability/health';
import { metricsRegistry } from '../../src/observability/metrics';
import { createRegions } from '../support/builders';
import { startTestServer, type TestServer } from '../support/test-server';

/** How long each gathering of /metrics takes here: as a worker's, which waits for every worker's registry (src/cluster.ts). */
const GATHER_MS = 100;

/**
 * `/health/ready` and `/metrics` are anonymous and come before the rate
 * limits, so anyone may call them as often as they like: a flood of checks
 * must not become a flood of statements on the pool GraphQL's requests use,
 * nor a flood of scrapes one gathering of every worker's metrics each.
 */
describe('readiness and metrics under a flood', () => {
  let api: TestServer;
  let base: string;
  let gatherings = 0;
  beforeAll(async () => {
    api = await startTestServer({
      metrics: async () => {
        gatherings++;
        await new Promise((done) => setTimeout(done, GATHER_MS));
        return metricsRegistry.metrics();
      },
    });
    base = api.server.url.replace(/\/graphql$/, '');
    await createRegions(api, [{ code: '410000', name: '河南省' }]);
  });
  afterAll(() => api.close());

  /** The readiness probes sent to PostgreSQL while `during` runs. */
  const probesDuring = async (during: () => Promise<void>): Promise<number> => {
    const connection = api.orm.em.getConnection();
    const execute = jest.spyOn(connection, 'execute');
    try {
      await during();
      return execute.mock.calls.filter(([sql]) => sql === 'select 1').length;
    } finally {
      execute.mockRestore();
    }
  };
  const ready = async () => {
    const response = await fetch(`${base}/health/ready`);
    return [response.status, ((await response.json()) as { status: string }).status] as const;
  };

  it('answers 1,000 concurrent checks with one statement per reuse time, all ready, while a GraphQL read is answered', async () => {
    // After the reuse time of any earlier check (the server's start sends none).
    await new Promise((done) => setTimeout(done, READINESS_REUSE_MS));
    let answers: (readonly [number, string])[] = [];
    let read: Awaited<ReturnType<TestServer['request']>> | undefined;
    const started = performance.now();
    let tookMs = 0;
    const probes = await probesDuring(async () => {
      const checks = Promise.all(Array.from({ length: 1000 }, ready));
      read = await api.request(`{ region(code: "410000") { name } }`);
      answers = await checks;
      tookMs = performance.now() - started;
    });
    // One probe, and one more for each reuse time the thousand took to arrive (over a second on two busy cores); 1,000 before.
    expect(probes).toBeGreaterThanOrEqual(1);
    expect(probes).toBeLessThanOrEqual(1 + Math.floor(tookMs / READINESS_REUSE_MS));
    expect(answers.filter(([status, state]) => status !== 200 || state !== 'ready')).toEqual([]);
    expect(answers).toHaveLength(1000);
    expect(read).toEqual({ data: { region: { name: '河南省' } } });
  });

  it('probes again once the last answer is older than the reuse time', async () => {
    await new Promise((done) => setTimeout(done, READINESS_REUSE_MS));
    const probes = await probesDuring(async () => {
      expect(await ready()).toEqual([200, 'ready']);
      expect(await ready()).toEqual([200, 'ready']);
      await new Promise((done) => setTimeout(done, READINESS_REUSE_MS + 50));
      expect(await ready()).toEqual([200, 'ready']);
    });
    expect(probes).toBe(2);
  });

  it('gathers the metrics once for all the scrapes that arrive while it gathers', async () => {
    gatherings = 0;
    const started = performance.now();
    const scrapes = await Promise.all(
      Array.from({ length: 1000 }, async () => {
        const response = await fetch(`${base}/metrics`);
        return [response.status, /^mulu_requests_total\{/m.test(await response.text())] as const;
      }),
    );
    const tookMs = performance.now() - started;
    expect(scrapes.filter(([status, complete]) => status !== 200 || !complete)).toEqual([]);
    // Gatherings never overlap and each takes GATHER_MS: at most one per GATHER_MS the thousand took (1,000 before).
    expect(gatherings).toBeGreaterThanOrEqual(1);
    expect(gatherings).toBeLessThanOrEqual(1 + Math.floor(tookMs / GATHER_MS));
    // A scrape after the flood gathers again: counters read later are current.
    await fetch(`${base}/metrics`).then((response) => response.text());
    expect(gatherings).toBeLessThanOrEqual(2 + Math.floor(tookMs / GATHER_MS));
  });

  it('keeps the metrics small whatever paths anonymous callers send: labels of routes, not of codes, and at most 100 characters', async () => {
    const scrape = async () => (await fetch(`${base}/metrics`)).text();
    const before = (await scrape()).length;
    for (let i = 0; i < 250; i++) {
      const response = await fetch(`${base}/reports/${i}${'x'.repeat(8_000)}/2023-06/resources.csv`);
      expect(response.status).toBe(401);
      await response.text();
    }
    const after = await scrape();
    // One series more (/reports/*, 401), not 250 of 8 KB labels each (25.7 MB before).
    expect(after).toMatch(/^mulu_requests_total\{operation="\/reports\/\*",method="GET",status="401"\} 250$/m);
    expect(after.length - before).toBeLessThan(5_000);
  });
});
