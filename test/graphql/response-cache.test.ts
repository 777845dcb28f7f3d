import { CLOCK_ACCOUNTED_FOR, readsTheClockUnaccounted } from '../../src/db/clock-reads';
import { MAX_CACHED_REQUEST_CHARS, RESPONSE_CACHE_HEADER } from '../../src/graphql/response-cache';
import { SQL_STATEMENTS_HEADER } from '../../src/graphql/sql-statement-count';
import { SNAPSHOT_CONNECTION_NAME } from '../../src/graphql/snapshot-source';
import { addDirectory, createDepartment, createRegions, creditCode, mount } from '../support/builders';
import { openConnection, untilWaiting } from '../support/locks';
import { startTestServer, type TestServer } from '../support/test-server';

/**
 * The response cache reuses a query's answer only while it is exactly what
 * computing it again would give: same caller, same document and variables,
 * no commit since (the database snapshot), and the clock not past the moment
 * the answer was dated to. Every test here fails if the cache served an
 * answer it should have recomputed, or never served one.
 */
describe('response cache', () => {
  let api: TestServer;
  const A = creditCode('410505', 1);
  const B = creditCode('410505', 2);

  const execute = <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => api.orm.em.fork().getConnection().execute<T[]>(sql, params);

  /** Sends a query; returns the cache's verdict, the statement count and the parsed body. */
  const post = async (query: string, variables: Record<string, unknown> = {}, token = api.adminToken, headers: Record<string, string> = {}) => {
    const response = await fetch(api.server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
      body: JSON.stringify({ query, variables }),
    });
    const text = await response.text();
    return {
      cache: response.headers.get(RESPONSE_CACHE_HEADER),
      statements: Number(response.headers.get(SQL_STATEMENTS_HEADER)),
      text,
      body: JSON.parse(text),
    };
  };

  const STATS = `query Stats($code: String!) { region(code: $code) { name mountStats { publishedDirectories mountedDirectories dataVolume } } }`;

  beforeAll(async () => {
    // A server of its own: any commit on the server, in any database, changes the snapshot the cache compares.
    api = await startTestServer({ sqlCountHeader: true, ownCluster: true });
    await createRegions(api, [
      { code: '410000', name: '河南省' },
      { code: '410500', name: '安阳市' },
      { code: '410505', name: '殷都区' },
    ]);
    await createDepartment(api, { creditCode: A, name: '殷都区民政局', regionCode: '410505' });
    await createDepartment(api, { creditCode: B, name: '殷都区教育局', regionCode: '410505' });
    await addDirectory(api, A, 'A-1');
    await mount(api, 'A-1', 100);
  });
  afterAll(() => api.close());

  it('answers a repeated query from the cache, byte for byte, with one statement', async () => {
    const first = await post(STATS, { code: '410505' });
    expect(first.cache).toBe('MISS');
    expect(first.body.data.region.mountStats).toEqual({ publishedDirectories: 1, mountedDirectories: 1, dataVolume: 100 });
    const second = await post(STATS, { code: '410505' });
    expect(second).toEqual({ ...first, cache: 'HIT', statements: 1 });
    // The statement header counts every statement, the cache's own included.
    api.sql.reset();
    const third = await post(STATS, { code: '410505' });
    expect([third.cache, third.statements, api.sql.count]).toEqual(['HIT', 1, 1]);
    // Other variables are another answer.
    expect((await post(STATS, { code: '410500' })).cache).toBe('MISS');
  });

  it('computes afresh for a client that sends Cache-Control: no-cache', async () => {
    await post(STATS, { code: '410505' });
    const fresh = await post(STATS, { code: '410505' }, api.adminToken, { 'cache-control': 'no-cache' });
    // The query's own statement (the region with its stored figures): the cache takes no snapshot for an answer it will not store.
    expect([fresh.cache, fresh.statements]).toEqual(['MISS', 1]);
    // The stored answer is untouched, and still served while nothing was committed.
    expect((await post(STATS, { code: '410505' })).cache).toBe('HIT');
  });

  it('computes a request larger than MAX_CACHED_REQUEST_CHARS as with no-cache: no snapshot statements, nothing stored', async () => {
    const SEARCH = `query Search($t: String!) { directories(first: 5, filter: { text: $t }) { totalCount } }`;
    // Text the search accepts, padded with an unused variable past the cap.
    const large = { t: 'A-1', padding: 'x'.repeat(MAX_CACHED_REQUEST_CHARS) };
    const first = await post(SEARCH, large);
    expect(first.body.data.directories.totalCount).toBe(1);
    expect([first.cache, first.statements]).toEqual(['MISS', 2]);
    expect((await post(SEARCH, large)).cache).toBe('MISS');
    // Under the cap, the same query is stored and served.
    await post(SEARCH, { t: 'A-1' });
    expect((await post(SEARCH, { t: 'A-1' })).cache).toBe('HIT');
  });

  it('recomputes after a write through the API', async () => {
    await post(STATS, { code: '410505' });
    expect((await post(STATS, { code: '410505' })).cache).toBe('HIT');
    await addDirectory(api, B, 'B-1');
    const after = await post(STATS, { code: '410505' });
    expect(after.cache).toBe('MISS');
    expect(after.body.data.region.mountStats.publishedDirectories).toBe(2);
  });

  it('recomputes after a write the server never saw (another process, plain SQL)', async () => {
    await post(STATS, { code: '410505' });
    expect((await post(STATS, { code: '410505' })).cache).toBe('HIT');
    await execute(`update region set name = '殷都区（新）' where code = '410505'`);
    const after = await post(STATS, { code: '410505' });
    expect([after.cache, after.body.data.region.name]).toEqual(['MISS', '殷都区（新）']);
    await execute(`update region set name = '殷都区' where code = '410505'`);
  });

  it('computes an answer once for identical requests arriving together: the others wait for it', async () => {
    const holder = await openConnection(api);
    const observer = await openConnection(api);
    try {
      const before = api.server.responseCacheStats();
      // The first request's computation waits on this lock; the five after it find it under way.
      await holder.query('begin');
      await holder.query('lock table region in access exclusive mode');
      const first = post(STATS, { code: '410505' });
      await untilWaiting(observer, 1);
      const others = Array.from({ length: 5 }, () => post(STATS, { code: '410505' }));
      for (const deadline = Date.now() + 30_000; api.server.responseCacheStats().waiting < 5 && Date.now() < deadline;)
        await new Promise((resolve) => setTimeout(resolve, 10));
      await holder.query('rollback');
      const answers = await Promise.all([first, ...others]);
      const after = api.server.responseCacheStats();
      expect([after.misses - before.misses, after.shared - before.shared]).toEqual([1, 5]);
      expect(answers.map((a) => a.cache)).toEqual(['MISS', 'HIT', 'HIT', 'HIT', 'HIT', 'HIT']);
      expect(new Set(answers.map((a) => a.text)).size).toBe(1);
    } finally {
      await holder.end();
      await observer.end();
    }
  });

  it('keeps callers apart', async () => {
    const VIEWER = `{ viewer { name role departmentCreditCode } }`;
    const stewardToken = await api.signToken({ role: 'STEWARD', department: A, sub: 'steward-a', name: '民政局管理员' });
    const viewerToken = await api.signToken({ role: 'VIEWER', sub: 'viewer-1', name: '看板' });
    const steward = [await post(VIEWER, {}, stewardToken), await post(VIEWER, {}, stewardToken)];
    const viewer = [await post(VIEWER, {}, viewerToken), await post(VIEWER, {}, viewerToken)];
    expect(steward.map((r) => r.cache)).toEqual(['MISS', 'HIT']);
    expect(viewer.map((r) => r.cache)).toEqual(['MISS', 'HIT']);
    expect(steward[1].body.data.viewer).toEqual({ name: '民政局管理员', role: 'STEWARD', departmentCreditCode: A });
    expect(viewer[1].body.data.viewer).toEqual({ name: '看板', role: 'VIEWER', departmentCreditCode: null });
  });

  it('never stores mutations or answers with errors', async () => {
    const failing = `query { directories(first: -1) { edges { node { code } } } }`;
    const bad = [await post(failing), await post(failing)];
    expect(bad.map((r) => [r.cache, r.body.errors?.[0]?.extensions?.code])).toEqual([
      ['MISS', 'BAD_USER_INPUT'],
      ['MISS', 'BAD_USER_INPUT'],
    ]);
    const publish = `mutation { withdrawDirectory(input: { directory: { code: "A-1" } }) { status } }`;
    const withdrawn = await post(publish);
    expect([withdrawn.cache, withdrawn.body.errors]).toEqual([null, undefined]);
    await api.ok(`mutation { publishDirectory(input: { directory: { code: "A-1" } }) { status } }`);
  });

  it('dates an answer showing stale flags to the first directory that turns stale, and recomputes after it', async () => {
    const STALE = `{ directory(code: "A-1") { stale } }`;
    // The same flag on a catalogue page, where the page's own statement decides it (directoryService.search).
    const PAGE = `{ directories(first: 20, filter: { text: "A-1" }) { edges { node { code stale } } } }`;
    const staleOf = (r: { body: any }) => r.body.data.directory?.stale ?? r.body.data.directories.edges.find((e: any) => e.node.code === 'A-1').node.stale;
    // A-1 turns stale 4 s from now by the database clock (a write: the first answers below are computed afresh).
    await execute(`update resource_directory set stale_after = now() + interval '4 seconds' where code = 'A-1'`);
    for (const query of [STALE, PAGE]) {
      const before = [await post(query), await post(query)];
      expect(before.map((r) => [r.cache, staleOf(r)])).toEqual([
        ['MISS', false],
        ['HIT', false],
      ]);
    }
    // Until the database clock (now(), as the server's next statement reads it) has passed A-1's stale_after.
    for (const deadline = Date.now() + 30_000; ;) {
      const [{ passed }] = await execute<{ passed: boolean }>(`select stale_after < now() as passed from resource_directory where code = 'A-1'`);
      if (passed) break;
      if (Date.now() > deadline) throw new Error('A-1 did not turn stale within 30 s');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    for (const query of [STALE, PAGE]) {
      const after = await post(query);
      expect([after.cache, staleOf(after)]).toEqual(['MISS', true]);
      // Stale for good now: the clock cannot change it back, so the answer is reused again.
      expect((await post(query)).cache).toBe('HIT');
    }
    await execute(`update resource_directory set stale_after = now() + interval '1 day' where code = 'A-1'`);
  });

  it('never reuses answers that read the clock without dating them', async () => {
    // A stale filter compares with now() in SQL; a subscription's status lapses at midnight (read in Node).
    const STALE_FILTER = `{ directories(first: 5, filter: { stale: false }) { edges { node { code } } } }`;
    const stewardB = await api.asRole('STEWARD', B);
    await stewardB.ok(`mutation { requestSubscription(input: { directory: { code: "A-1" }, purpose: "办理", endDate: "2099-12-31" }) { status } }`);
    const STATUS = `{ department(creditCode: "${B}") { subscriptionsMade(first: 5) { edges { node { status } } } } }`;
    // A search text that looks like the "accounted for" comment cannot vouch for the stale filter's now() in the same statement.
    const SPOOF = `{ directories(first: 5, filter: { stale: false, text: "${CLOCK_ACCOUNTED_FOR}" }) { edges { node { code } } } }`;
    for (const query of [STALE_FILTER, STATUS, SPOOF]) {
      const answers = [await post(query), await post(query)];
      expect(answers.map((r) => [r.cache, r.body.errors])).toEqual([
        ['MISS', undefined],
        ['MISS', undefined],
      ]);
    }
  });

  it("reuses a captured month's report, and the live month's until the month turns (which month is current is the clock's)", async () => {
    await api.ok(`mutation { captureSnapshot(input: { period: "2023-06" }) { period } }`);
    const REPORT = (period: string | null) =>
      `{ region(code: "410505") { report(period: ${period ? `"${period}"` : 'null'}) { period source region { figures { mount { publishedDirectories } } } } } }`;
    const captured = [await post(REPORT('2023-06')), await post(REPORT('2023-06'))];
    expect(captured.map((r) => [r.cache, r.body.data.region.report.source])).toEqual([
      ['MISS', 'SNAPSHOT'],
      ['HIT', 'SNAPSHOT'],
    ]);
    const live = [await post(REPORT(null)), await post(REPORT(null))];
    expect(live.map((r) => [r.cache, r.body.data.region.report.source])).toEqual([
      ['MISS', 'LIVE'],
      ['HIT', 'LIVE'],
    ]);
  });

  describe('direct path (a stored answer sent before Apollo)', () => {
    /** Sends STATS as `post` does, with extra headers; returns the response's headers too. */
    const send = async (
      headers: Record<string, string>,
      token = api.adminToken,
      body: Record<string, unknown> = { query: STATS, variables: { code: '410505' } },
    ) => {
      const response = await fetch(api.server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
        body: JSON.stringify(body),
      });
      return { status: response.status, headers: Object.fromEntries(response.headers), text: await response.text() };
    };
    /** The headers that differ between any two answers: the request's id, the date, the server's times. */
    const comparable = (headers: Record<string, string>) => {
      const { 'x-request-id': _id, date: _date, 'server-timing': _timing, ...rest } = headers;
      return rest;
    };
    const direct = () => api.server.responseCacheStats().direct;

    it("sends the stored text with exactly the headers Apollo's path sends", async () => {
      await send({});
      const before = direct();
      const fast = await send({});
      expect(direct() - before).toBe(1);
      // An Accept header the direct path leaves to Apollo's negotiation: the same answer through Apollo's pipeline.
      const slow = await send({ accept: 'application/json;q=0.9, text/plain;q=0.1' });
      expect(direct() - before).toBe(1);
      expect([fast.status, fast.headers[RESPONSE_CACHE_HEADER], slow.headers[RESPONSE_CACHE_HEADER]]).toEqual([200, 'HIT', 'HIT']);
      expect(fast.text).toBe(slow.text);
      expect(comparable(fast.headers)).toEqual(comparable(slow.headers));
      expect(fast.headers[SQL_STATEMENTS_HEADER]).toBe('1');
      expect(fast.headers['server-timing']).toMatch(/^app;dur=[\d.]+, sql;dur=[\d.]+$/);
      // GraphQL's own response type, asked for alone, is answered directly too, with that type.
      const graphqlResponse = await send({ accept: 'application/graphql-response+json' });
      expect([direct() - before, graphqlResponse.headers['content-type'], graphqlResponse.text]).toEqual([
        2,
        'application/graphql-response+json; charset=utf-8',
        fast.text,
      ]);
    });

    it('leaves to Apollo every request that is not plainly the same one', async () => {
      await send({});
      const before = direct();
      const variants = [
        await send({ accept: 'text/html' }),
        await send({ 'cache-control': 'no-cache' }),
        await send({}, api.adminToken, { query: STATS, variables: { code: '410505' }, extensions: {} }),
        await send({}, api.adminToken, { query: STATS, variables: { code: '410505' }, operationName: 'Stats' }),
        await send({}, api.adminToken, { query: STATS, variables: '{"code":"410505"}' }),
      ];
      expect(direct()).toBe(before);
      expect(variants.map((v) => v.status)).toEqual([406, 200, 200, 200, 400]);
      // The named operation is another key; stored now, its next request is direct.
      await send({}, api.adminToken, { query: STATS, variables: { code: '410505' }, operationName: 'Stats' });
      expect(direct()).toBe(before + 1);
    });

    it('never answers a request that only looks the same as a stored one (an empty operation name, a number JSON cannot write)', async () => {
      const stored = await send({}, api.adminToken, { query: STATS, variables: { code: '410505' } });
      expect((await send({}, api.adminToken, { query: STATS, variables: { code: '410505' } })).headers[RESPONSE_CACHE_HEADER]).toBe('HIT');
      // "" names no operation (Apollo refuses it); absent means the only one.
      const unnamed = await send({}, api.adminToken, { query: STATS, variables: { code: '410505' }, operationName: '' });
      expect([unnamed.status, JSON.parse(unnamed.text).errors[0].extensions.code]).toEqual([400, 'BAD_REQUEST']);
      expect(stored.status).toBe(200);
      // 1e400 parses to Infinity, which JSON would write as null: it must not be served the answer of null.
      const PAGE = `query Page($first: Int) { directories(first: $first) { totalCount } }`;
      const raw = (variables: string) =>
        fetch(api.server.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${api.adminToken}` },
          body: `{"query":${JSON.stringify(PAGE)},"variables":${variables}}`,
        });
      await raw('{"first":null}');
      expect((await raw('{"first":null}')).headers.get(RESPONSE_CACHE_HEADER)).toBe('HIT');
      const huge = await raw('{"first":1e400}');
      expect([huge.status, JSON.parse(await huge.text()).errors[0].extensions.code]).toEqual([400, 'BAD_USER_INPUT']);
    });

    it("never sends a stored answer to a request whose token fails, though its caller's answer is stored", async () => {
      const claims = { role: 'VIEWER', sub: 'viewer-direct', name: '看板' };
      const token = await api.signToken(claims);
      const first = await send({}, token);
      expect([first.status, first.headers[RESPONSE_CACHE_HEADER]]).toEqual([200, 'MISS']);
      expect((await send({}, token)).headers[RESPONSE_CACHE_HEADER]).toBe('HIT');
      const before = direct();
      // The same caller by its claims, with a token past its expiry (and the tolerance), or with a broken signature.
      const expired = await send({}, await api.signToken(claims, { expiresIn: Math.floor(Date.now() / 1000) - 120 }));
      const forged = await send({}, `${token.slice(0, -4)}AAAA`);
      for (const refused of [expired, forged]) {
        expect([refused.status, JSON.parse(refused.text).errors[0].extensions.code, refused.headers[RESPONSE_CACHE_HEADER]]).toEqual([
          401,
          'UNAUTHENTICATED',
          undefined,
        ]);
      }
      expect(direct()).toBe(before);
    });

    it('costs an answer retired by a commit the same statements as one never stored', async () => {
      const fresh = await post(STATS, { code: '410505' }, api.adminToken, { 'cache-control': 'no-cache' });
      await post(STATS, { code: '410505' });
      expect((await post(STATS, { code: '410505' })).cache).toBe('HIT');
      await execute(`update region set name = '殷都区（新）' where code = '410505'`);
      const after = await post(STATS, { code: '410505' });
      // The snapshot the direct path took goes on to the plugin: before, the query's own, after.
      expect([after.cache, after.statements, after.body.data.region.name]).toEqual(['MISS', fresh.statements + 2, '殷都区（新）']);
      await execute(`update region set name = '殷都区' where code = '410505'`);
    });

    it('keeps one copy of a stored answer, its UTF-8 bytes, and counts it', async () => {
      // A short document with a long answer: what is counted is mostly the answer. A commit first retires every
      // stored answer (as would any background commit of the server's own), so the cache then holds this one alone.
      const TYPES = `{ __schema { types { name description } } }`;
      await execute(`update region set name = name where code = '410505'`);
      const first = await post(TYPES);
      const stats = api.server.responseCacheStats();
      expect([first.cache, stats.entries]).toEqual(['MISS', 1]);
      const size = Buffer.byteLength(first.text, 'utf8');
      // The bytes, the key and snapshot as text, and a few hundred bytes of objects: not the text kept beside them.
      expect(stats.bytes).toBeGreaterThanOrEqual(size);
      expect(stats.bytes).toBeLessThan(size + 2_000);
      expect((await post(TYPES)).text).toBe(first.text);
    });

    it('keeps answering when its snapshot connection is cut, and opens a new one', async () => {
      const cut = () =>
        execute<{ cut: boolean }>(`select pg_terminate_backend(pid) as cut from pg_stat_activity where application_name = ?`, [SNAPSHOT_CONNECTION_NAME]);
      await post(STATS, { code: '410505' });
      expect((await post(STATS, { code: '410505' })).cache).toBe('HIT');
      expect((await cut()).map((row) => row.cut)).toEqual([true]);
      // While the connection is gone the pool takes the snapshot: the same answers, the same statements (the first
      // request may have sent its statement on the dying connection before the client heard of the cut: then two).
      const answers = [];
      for (let i = 0; i < 3; i++) answers.push(await post(STATS, { code: '410505' }));
      expect(answers.map((a) => [a.cache, a.body.data.region.mountStats.dataVolume])).toEqual([
        ['HIT', 100],
        ['HIT', 100],
        ['HIT', 100],
      ]);
      expect([1, 2]).toContain(answers[0].statements);
      expect(answers.slice(1).map((a) => a.statements)).toEqual([1, 1]);
      // A second later the cache has its own connection again.
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      expect((await post(STATS, { code: '410505' })).cache).toBe('HIT');
      const open = await execute<{ n: number }>(`select count(*)::int as n from pg_stat_activity where application_name = ?`, [SNAPSHOT_CONNECTION_NAME]);
      expect(open[0].n).toBe(1);
    });

    it("counts a direct answer under its operation's name in the request metrics", async () => {
      const NAMED = `query DirectlyNamed($code: String!) { region(code: $code) { name } }`;
      await post(NAMED, { code: '410505' });
      const count = async () => {
        const metrics = await (await fetch(api.server.url.replace('/graphql', '/metrics'))).text();
        const line = metrics
          .split('\n')
          .find((l) => l.startsWith('mulu_requests_total{') && l.includes('operation="DirectlyNamed"') && l.includes('status="200"'));
        return Number(line?.split(' ').pop() ?? 0);
      };
      const before = [await count(), direct()];
      await post(NAMED, { code: '410505' });
      expect([await count(), direct()]).toEqual([before[0] + 1, before[1] + 1]);
    });
  });

  it('does not store an answer when a commit lands while it is computed', async () => {
    const holder = await openConnection(api);
    const observer = await openConnection(api);
    try {
      const storedBefore = api.server.responseCacheStats().stored;
      await holder.query('begin');
      // The query's first read of the region table waits for this lock; the cache has taken its snapshot by then.
      await holder.query('lock table region in access exclusive mode');
      const pending = post(STATS, { code: '410000' });
      await untilWaiting(observer, 1);
      await holder.query(`update region set name = '河南' where code = '410000'`);
      await holder.query('commit');
      const answer = await pending;
      expect([answer.cache, answer.body.data.region.name]).toEqual(['MISS', '河南']);
      expect(api.server.responseCacheStats().stored).toBe(storedBefore);
      // Computed again on a quiet database, it is stored.
      expect((await post(STATS, { code: '410000' })).cache).toBe('MISS');
      expect((await post(STATS, { code: '410000' })).cache).toBe('HIT');
    } finally {
      await holder.end();
      await observer.end();
    }
  });
});

describe('response cache turned off', () => {
  let api: TestServer;
  beforeAll(async () => {
    api = await startTestServer({ responseCacheBytes: 0 });
  });
  afterAll(() => api.close());

  it('computes every answer and adds no statement', async () => {
    const query = `{ region(code: "410000") { name } }`;
    await api.ok(query);
    api.sql.reset();
    await api.ok(query);
    expect(api.sql.statements).toHaveLength(1);
    expect(api.server.responseCacheStats()).toMatchObject({ hits: 0, misses: 0, stored: 0 });
  });
});

describe('clock reads in SQL', () => {
  it('finds the ways PostgreSQL reads the clock, and lets only a leading comment vouch for them', () => {
    const reading = [
      `select now()`,
      `where d < current_date`,
      `select localtimestamp`,
      `where t < 'now'::timestamptz`,
      `select age(x) from t`,
      `select clock_timestamp ()`,
    ];
    const notReading = [`select coverage(x), age(a, b) from t`, `select known(1)`, `select current_user`];
    expect(reading.filter((sql) => !readsTheClockUnaccounted(sql))).toEqual([]);
    expect(notReading.filter((sql) => readsTheClockUnaccounted(sql))).toEqual([]);
    expect(readsTheClockUnaccounted(`${CLOCK_ACCOUNTED_FOR} select now()`)).toBe(false);
    expect(readsTheClockUnaccounted(`select now() where name like '%${CLOCK_ACCOUNTED_FOR}%'`)).toBe(true);
  });
});
