import { Client } from 'pg';
import { checkCreditCode } from '../../src/modules/departments/credit-code';
import { createTestDatabase } from '../support/database';
import { startTestServer, type TestServer } from '../support/test-server';
import { connect } from './database';
import { runBenchmark, type ScenarioRun } from './runner';
import { SCALES } from './scales';
import {
  cataloguePage,
  COMPUTED,
  DEPARTMENT_FIGURES_MISMATCH_SQL,
  districtRanking,
  DURING_INGESTION,
  provinceDashboard,
  REGION_FIGURES_MISMATCH_SQL,
  scenarios,
} from './scenarios';
import { seedDatabase } from './seed';

/** A digest of the generated rows, to compare two generations. */
async function digest(databaseUrl: string): Promise<string> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query(
      `select md5((select string_agg(d::text, '|' order by d.id) from (select id, credit_code, name, region_code, created_at from department) d)
               || (select string_agg(c::text, '|' order by c.id) from (select id, code, name, department_id, status, share_type, information_items, data_volume, last_refreshed_at from resource_directory) c)
               || (select string_agg(m::text, '|' order by m.id) from (select id, directory_id, record_count, last_refreshed_at, active from mount) m)
               || (select string_agg(s::text, '|' order by s.id) from (select id, directory_id, requester_id, status, end_date from subscription_request) s)
               || (select string_agg(s::text, '|' order by s.id) from (select id, main_item_id, code, category, record_count from supervision_sub_item) s)
               || (select md5(string_agg(r::text, '|' order by r.id)) from (select id, sub_item_id, external_id, occurred_at, supersedes_id, superseded from supervision_record) r)) as digest`,
    );
    return rows[0].digest as string;
  } finally {
    await client.end();
  }
}

/**
 * Keeps the benchmark from rotting: generates the district scale into a test
 * database, runs every scenario briefly against the in-process server and
 * checks the figures are sane. No timing assertions: `npm run bench` measures.
 */
describe('benchmark smoke run (district scale)', () => {
  let api: TestServer;
  let url: string;
  let runs: ScenarioRun[];
  let generatedProblem: unknown = 'not checked';
  let generatedDigest: string;

  /** Checks of the generated data, made before the benchmark adds records. */
  async function checkGenerated(): Promise<void> {
    const client = await connect(url);
    try {
      const summaries = await client.query(
        `select count(*)::int as wrong from resource_directory c
           left join (select directory_id, count(*)::int as n, sum(record_count)::bigint as v, max(last_refreshed_at) as t from mount where active group by directory_id) s
             on s.directory_id = c.id
          where c.active_mount_count <> coalesce(s.n, 0) or c.data_volume <> coalesce(s.v, 0) or c.last_refreshed_at is distinct from s.t`,
      );
      expect(summaries.rows[0].wrong).toBe(0);
      const figures = await client.query(DEPARTMENT_FIGURES_MISMATCH_SQL);
      expect(figures.rows[0].wrong).toBe(0);
      const regionFigures = await client.query(REGION_FIGURES_MISMATCH_SQL);
      expect(regionFigures.rows[0].wrong).toBe(0);
      const closure = await client.query(
        `select (select count(*)::int from region) as regions,
                (select count(*)::int from region_closure where depth = 0) as selves,
                (select count(*)::int from region_closure) as pairs,
                (select sum(case level when 'PROVINCE' then 1 when 'CITY' then 2 else 3 end)::int from region) as expected`,
      );
      expect(closure.rows[0].selves).toBe(closure.rows[0].regions);
      expect(closure.rows[0].pairs).toBe(closure.rows[0].expected);
      const codes = await client.query(`select credit_code from department`);
      expect(codes.rows.length).toBe(SCALES.district.departments);
      expect(codes.rows.filter((row) => !checkCreditCode(row.credit_code).ok)).toEqual([]);
      const counts = await client.query(
        `select (select count(*)::int from resource_directory) as directories, (select count(*)::int from subscription_request) as subscriptions,
                (select count(*)::int from supervision_main_item) as main_items, (select count(*)::int from supervision_sub_item) as sub_items,
                (select count(*)::int from supervision_record where supersedes_id is null) as records,
                (select count(*)::int from supervision_record r join supervision_record old on old.id = r.supersedes_id where old.superseded and old.sub_item_id = r.sub_item_id) as corrections,
                (select count(*)::int from supervision_record where superseded) as superseded,
                (select count(*)::int from supervision_sub_item s
                   left join (select sub_item_id, count(*) as n from supervision_record where not superseded group by sub_item_id) r on r.sub_item_id = s.id
                  where s.record_count <> coalesce(r.n, 0)) as wrong_counters,
                (select count(*)::int from supervision_sub_item where record_count = 0) as uncovered,
                (select count(*)::int from supervision_record r join supervision_sub_item s on s.id = r.sub_item_id where r.department_id <> s.department_id) as wrong_departments`,
      );
      const { uncovered, corrections, superseded, ...exact } = counts.rows[0];
      expect(exact).toEqual({
        directories: SCALES.district.directories,
        subscriptions: SCALES.district.subscriptions,
        main_items: SCALES.district.mainItems,
        sub_items: SCALES.district.subItems,
        records: SCALES.district.records + 0,
        wrong_counters: 0,
        wrong_departments: 0,
      });
      expect(corrections).toBe(superseded);
      expect(uncovered / SCALES.district.subItems).toBeGreaterThan(0.2);
      expect(uncovered / SCALES.district.subItems).toBeLessThan(0.45);
    } finally {
      await client.end();
    }
  }

  beforeAll(async () => {
    // A server of its own: other test files' commits would retire the response cache's answers at random.
    api = await startTestServer({ sqlCountHeader: true, ownCluster: true });
    url = api.orm.config.get('clientUrl')!;
    await seedDatabase(url, SCALES.district, 1, false, () => {});
    generatedProblem = await checkGenerated().then(
      () => null,
      (error: unknown) => error,
    );
    generatedDigest = await digest(url);
    runs = await runBenchmark({
      url: api.server.url.replace('localhost', '127.0.0.1'),
      serverPid: process.pid,
      databaseUrl: url,
      authorization: { read: `Bearer ${await api.signToken({ role: 'VIEWER' })}`, write: `Bearer ${api.adminToken}` },
      scenarios: scenarios(),
      clients: [1, 4],
      length: { requests: 10 },
      writeLength: { requests: 3 },
      warmupRequests: 3,
    });
  });
  afterAll(() => api?.close());

  it('generated what the API would: summaries equal the mounts, department figures their rows, a complete closure, valid credit codes, exact counters', () => {
    expect(generatedProblem).toBeNull();
  });

  it('is deterministic for a seed', async () => {
    const other = await createTestDatabase();
    try {
      await seedDatabase(other.url, SCALES.district, 1, false, () => {});
      expect(await digest(other.url)).toBe(generatedDigest);
    } finally {
      await other.drop();
    }
  });

  it('runs every scenario at each concurrency without errors', () => {
    expect(runs.map((r) => `${r.scenario}/${r.clients}`)).toEqual(scenarios().flatMap((s) => [`${s.name}/1`, `${s.name}/4`]));
    for (const run of runs) {
      expect({ scenario: run.scenario, errors: run.errors }).toEqual({ scenario: run.scenario, errors: expect.objectContaining({ total: 0 }) });
      expect(run.requests).toBeGreaterThanOrEqual(run.unitsPerSecond === undefined ? 10 : 3);
      expect(run.requestsPerSecond).toBeGreaterThan(0);
      expect(run.latencyMs.p50).toBeGreaterThan(0);
      expect(run.latencyMs.p99).toBeGreaterThanOrEqual(run.latencyMs.p50);
      expect(run.serverPeakRssMb).toBeGreaterThan(0);
    }
  });

  it('ingests batches of new records with the counters exact afterwards', () => {
    const ingestion = runs.filter((r) => r.scenario === 'ingestion');
    expect(ingestion).toHaveLength(2);
    for (const run of ingestion) {
      expect(run.verified).toBe('ok');
      expect(run.unitsPerSecond).toBeGreaterThan(0);
    }
  });

  it('counts the same SQL statements for every computed answer of a scenario, and one for a cached one', () => {
    for (const run of runs) {
      const { sqlStatements: computed, sqlStatementsWhenCached: cached } = run;
      expect(computed ?? cached).not.toBeNull();
      if (computed) expect([computed.min > 0, computed.max]).toEqual([true, computed.min]);
      if (cached) expect([cached.min, cached.max]).toEqual([1, 1]);
    }
  });

  it('answers repeated reads from the response cache, and computes every answer of the no-cache variants', () => {
    const reads = runs.filter((r) => r.floor);
    expect(reads.length).toBeGreaterThan(0);
    for (const run of reads) {
      expect(run.cache!.hits + run.cache!.misses).toBe(run.requests);
      if (run.scenario.endsWith(COMPUTED)) expect(run.cache!.hits).toBe(0);
      // While records are ingested any answer may be retired before it is asked again.
      else if (!run.scenario.endsWith(DURING_INGESTION)) expect(run.cache!.hits).toBeGreaterThan(0);
    }
  });

  it('runs the dashboard while records are ingested, the counters exact afterwards', () => {
    const mixed = runs.filter((r) => r.scenario.endsWith(DURING_INGESTION));
    expect(mixed).toHaveLength(2);
    for (const run of mixed) {
      expect(run.alongside).toMatchObject({ errors: 0, verified: 'ok' });
      expect(run.alongside!.requests).toBeGreaterThan(0);
    }
  });

  it('measures a floor for every read scenario', () => {
    for (const run of runs.filter((r) => r.floor)) {
      expect(run.floor!.requests).toBeGreaterThanOrEqual(10);
      expect(run.floor!.latencyMs.p50).toBeGreaterThan(0);
      expect(run.ratioToFloor!.p50).toBeGreaterThan(0);
    }
  });

  it('compares every read answer of every run row by row with its floor, and they agree', () => {
    for (const run of runs.filter((r) => r.floor)) {
      expect({ scenario: run.scenario, clients: run.clients, compared: run.floorChecked! > 0, differed: run.errors.check }).toEqual({
        scenario: run.scenario,
        clients: run.clients,
        compared: true,
        differed: 0,
      });
    }
  });

  it.each([
    { name: provinceDashboard.name, scenario: provinceDashboard, spoil: (data: any) => data.region.children[0].supervisionStats.byCategory[1].records++ },
    { name: districtRanking.name, scenario: districtRanking, spoil: (data: any) => data.region.departmentRanking[0].department.subscriptionStats.made++ },
    { name: cataloguePage.name, scenario: cataloguePage, spoil: (data: any) => (data.directories.edges[0].node.department.region.name += '.') },
  ])('has a floor that gives every row of the $name answer, and tells a wrong answer', async ({ scenario, spoil }) => {
    // As the benchmark reads: a viewer (who is not shown other departments' drafts).
    const data = await (await api.asRole('VIEWER')).ok<any>(scenario.query, scenario.variables);
    const client = await connect(url);
    try {
      const { rows } = await client.query(scenario.floor.sql, scenario.floor.params);
      expect(scenario.check(data)).toBeNull();
      expect(scenario.compare(data, rows)).toBeNull();
      spoil(data);
      expect(scenario.compare(data, rows)).not.toBeNull();
    } finally {
      await client.end();
    }
  });
});
