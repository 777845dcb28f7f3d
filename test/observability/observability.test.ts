import { LISTENER_APPLICATION_NAME } from '../../src/modules/notifications/pg-listener';
import { logger, setLogDestination } from '../../src/observability/logger';
import { createRegions } from '../support/builders';
import { startTestServer, type TestServer } from '../support/test-server';

/**
 * What an operator sees of a running server (finding 7 of issue 12): health
 * endpoints, one JSON log line per request with its id, operation, caller,
 * status, duration, SQL statements and cache result, and Prometheus metrics.
 */
describe('observability', () => {
  let api: TestServer;
  let base: string;
  beforeAll(async () => {
    api = await startTestServer();
    base = api.server.url.replace(/\/graphql$/, '');
    await createRegions(api, [{ code: '410000', name: '河南省' }]);
  });
  afterAll(() => api.close());

  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(api.server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${api.adminToken}`, ...headers },
      body: JSON.stringify(body),
    });

  it('answers liveness and readiness with a JSON reason', async () => {
    const live = await fetch(`${base}/health/live`);
    expect(live.status).toBe(200);
    expect(await live.json()).toMatchObject({ status: 'live' });
    const ready = await fetch(`${base}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { database: 'ok', migrations: 'ok', draining: false, writes: 'ok', liveUpdates: 'ok' } });
  });

  it("reports the listening connection's loss and return (live updates and webhook wake-ups), staying ready: requests do not need it", async () => {
    const readiness = async () => {
      const response = await fetch(`${base}/health/ready`);
      return { status: response.status, body: (await response.json()) as { checks: { liveUpdates?: string } } };
    };
    const seen: string[] = [];
    const until = async (state: string) => {
      for (const deadline = Date.now() + 15_000; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 20))) {
        const { status, body } = await readiness();
        expect(status).toBe(200);
        if (seen.at(-1) !== body.checks.liveUpdates) seen.push(body.checks.liveUpdates!);
        if (body.checks.liveUpdates === state) return;
      }
      throw new Error(`readiness never reported liveUpdates: ${state} (seen: ${seen.join(', ')})`);
    };
    await until('ok');
    // Cut as a database restart or a proxy cuts it; the listener reopens it a second later.
    const [cut] = await api.orm.em
      .getConnection()
      .execute<{ cut: boolean }[]>(
        `select pg_terminate_backend(pid) as cut from pg_stat_activity where datname = current_database() and application_name = ?`,
        [LISTENER_APPLICATION_NAME],
      );
    expect(cut).toEqual({ cut: true });
    await until('reconnecting');
    await until('ok');
    expect(seen).toEqual(['ok', 'reconnecting', 'ok']);
  });

  it('keeps a usable x-request-id, replaces an unusable one, makes one when none is sent, and returns it', async () => {
    const kept = await post({ query: '{ viewer { role } }' }, { 'x-request-id': 'trace-42.abc' });
    expect(kept.headers.get('x-request-id')).toBe('trace-42.abc');
    const replaced = await post({ query: '{ viewer { role } }' }, { 'x-request-id': 'no spaces <allowed>' });
    expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const made = await post({ query: '{ viewer { role } }' });
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('logs one JSON line per request: id, operation, caller, status, duration, SQL statements, cache', async () => {
    const lines: string[] = [];
    const restore = setLogDestination({ write: (line: string) => lines.push(line) });
    const level = logger.level;
    logger.level = 'info';
    try {
      const response = await post({ query: 'query RegionName { region(code: "410000") { name } }' }, { 'x-request-id': 'log-test-1' });
      expect(response.status).toBe(200);
      await response.json();
      const refused = await post({ query: 'query Who { viewer { role } }' }, { authorization: 'Bearer not-a-token', 'x-request-id': 'log-test-2' });
      expect(refused.status).toBe(401);
      await new Promise((r) => setImmediate(r));
    } finally {
      logger.level = level;
      restore();
    }
    const entries = lines.map((line) => JSON.parse(line) as Record<string, any>);
    const ok = entries.find((entry) => entry.reqId === 'log-test-1');
    expect(ok).toMatchObject({
      level: 'info',
      operation: 'RegionName',
      caller: 'SYSTEM:ADMIN:bootstrap',
      req: { method: 'POST', url: '/graphql' },
      res: { statusCode: 200 },
      cache: 'MISS',
    });
    expect(ok!.responseTime).toEqual(expect.any(Number));
    expect(ok!.sqlStatements).toBeGreaterThanOrEqual(1);
    expect(JSON.stringify(ok)).not.toContain(api.adminToken);
    const failed = entries.find((entry) => entry.reqId === 'log-test-2');
    expect(failed).toMatchObject({ res: { statusCode: 401 }, errorCodes: ['UNAUTHENTICATED'] });
    expect(failed!.caller).toBeUndefined();
  });

  it('serves Prometheus metrics: requests and latency by operation, errors by code, the pool, process metrics', async () => {
    await (await post({ query: 'query MetricsProbe { region(code: "410000") { name } }' })).json();
    await (await post({ query: '{ viewer { role } }' }, { authorization: 'Bearer nonsense' })).json();
    const response = await fetch(`${base}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    expect(text).toMatch(/^mulu_requests_total\{operation="MetricsProbe",method="POST",status="200"\} 1$/m);
    expect(text).toMatch(/^mulu_request_duration_seconds_count\{operation="MetricsProbe",status="200"\} 1$/m);
    expect(text).toMatch(/^mulu_errors_total\{code="UNAUTHENTICATED"\} [1-9]/m);
    expect(text).toMatch(/^mulu_db_pool_connections\{state="used"\} \d+$/m);
    expect(text).toMatch(/^mulu_db_pool_waiting \d+$/m);
    expect(text).toMatch(/^mulu_response_cache_requests_total\{result="MISS"\} [1-9]/m);
    expect(text).toMatch(/^mulu_figures_recount_duration_seconds_count\{outcome="done"\} [1-9]/m);
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);
    expect(text).toMatch(/^# HELP mulu_records_ingested_total /m);
  });
});
