import 'reflect-metadata';
import { buildMuluSchema } from '../../src/graphql/schema';
import { SUBSCRIBABLE_EVENTS } from '../../src/modules/notifications/notification-event';
import { creditCode } from '../support/builders';
import { CATEGORIES, driftedFigures, figureColumns } from '../support/figures-recount';
import { startTestServer, type TestServer } from '../support/test-server';

/**
 * Walks every mutation of the schema (read from the schema itself, so a new
 * mutation without a step here fails the test) on generated data. After each
 * call: every stored figure of every department and region equals a recount
 * written in the tests (test/support/figures-recount.ts), independently of
 * the production SQL, and the call left an audit entry. A mutation that
 * bypasses the unit of work (src/core/unit-of-work.ts) fails one of the two.
 */

/** A small deterministic generator, so a failure replays the same data. */
function generator(seed: number) {
  let state = seed;
  const next = () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
  return { int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)) };
}

describe('every mutation keeps the figures exact and leaves an audit entry', () => {
  let api: TestServer;

  beforeAll(async () => {
    // Webhooks may point at loopback here: the walk's webhook is an unanswered local port.
    api = await startTestServer({ figuresRecountIntervalMs: 24 * 60 * 60 * 1000, webhooks: { allowPrivate: true } });
  });

  afterAll(async () => {
    await api?.close();
  });

  it('walks every mutation of the schema', async () => {
    const random = generator(17);
    const columns = await figureColumns(api.orm);
    const walked = new Set<string>();
    const failures: string[] = [];

    /** Runs one mutation, then checks the figures and the audit trail. */
    const call = async <T = any>(name: string, document: string, input: unknown, actions: string[] = [name]): Promise<T> => {
      const [{ last }] = await api.orm.em.fork().execute(`select coalesce(max(id), 0) as last from audit_entry`);
      const data = await api.ok<Record<string, T>>(document, { input });
      walked.add(name);
      const entries: { action: string }[] = await api.orm.em.fork().execute(`select action from audit_entry where id > ? order by id`, [last]);
      if (!entries.some((entry) => actions.includes(entry.action)))
        failures.push(`${name}: no audit entry (wrote ${entries.map((e) => e.action).join(', ') || 'none'})`);
      for (const problem of await driftedFigures(api.orm, columns)) failures.push(`${name}: ${problem}`);
      return data[name];
    };

    // An administrator's webhook for every department and event: every step below also writes its outbox rows.
    const hook = await call<{ webhook: { id: string } }>(
      'createWebhook',
      `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id } } }`,
      { url: 'http://127.0.0.1:9/mulu', events: SUBSCRIBABLE_EVENTS },
    );
    await call('createRegion', `mutation($input: CreateRegionInput!) { createRegion(input: $input) { code } }`, { code: '410000', name: '河南省' });
    await call('createRegion', `mutation($input: CreateRegionInput!) { createRegion(input: $input) { code } }`, { code: '410500', name: '安阳市' });
    await call('createRegion', `mutation($input: CreateRegionInput!) { createRegion(input: $input) { code } }`, { code: '410505', name: '殷都区' });
    const departments: string[] = [];
    for (const [n, region] of [
      [1, '410505'],
      [2, '410505'],
      [3, '410500'],
    ] as const) {
      const code = creditCode(region, n);
      await call('createDepartment', `mutation($input: CreateDepartmentInput!) { createDepartment(input: $input) { id } }`, {
        creditCode: code,
        name: `部门${n}`,
        regionCode: region,
      });
      departments.push(code);
    }

    const key = await call<{ apiKey: { id: string } }>(
      'createApiKey',
      `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { apiKey { id } } }`,
      { departmentCreditCode: departments[0], name: '交换平台' },
    );
    await call('revokeApiKey', `mutation($input: RevokeApiKeyInput!) { revokeApiKey(input: $input) { id } }`, { id: key.apiKey.id });

    // Directories of every department, some published, some drafts left between them, mounts on some.
    const register = `mutation($input: RegisterDirectoryInput!) { registerDirectory(input: $input) { id } }`;
    const transition = (name: string) => `mutation($input: DirectoryTransitionInput!) { ${name}(input: $input) { id } }`;
    const published: { code: string; department: number; shareType: string }[] = [];
    const mounts: string[] = [];
    for (const [d, department] of departments.entries()) {
      const count = random.int(2, 4);
      for (let i = 0; i < count; i++) {
        const code = `D${d}-${i}`;
        const shareType = ['UNCONDITIONAL', 'CONDITIONAL', 'NOT_SHARED'][random.int(0, 2)];
        await call('registerDirectory', register, {
          code,
          name: `资源${code}`,
          departmentCreditCode: department,
          resourceFormat: 'DATABASE',
          shareType,
          shareConditions: shareType === 'UNCONDITIONAL' ? null : '依申请共享',
          updateCycle: ['DAILY', 'MONTHLY'][random.int(0, 1)],
          informationItems: [{ name: '名称', dataType: '字符型' }],
        });
        if (i === count - 1) continue; // a draft among the published ones
        await call('publishDirectory', transition('publishDirectory'), { directory: { code } });
        published.push({ code, department: d, shareType });
        if (random.int(0, 2) > 0) {
          // Some refreshed long ago, so that stale data is counted too.
          const refreshedAt = random.int(0, 1) ? new Date(Date.now() - 40 * 24 * 3600 * 1000).toISOString() : null;
          const mount = await call<{ id: string }>('mountDataset', `mutation($input: MountDatasetInput!) { mountDataset(input: $input) { id } }`, {
            directory: { code },
            kind: 'TABLE',
            locator: `ods.${code}`,
            recordCount: random.int(1, 10_000),
            refreshedAt,
          });
          mounts.push(mount.id);
        }
      }
    }
    await call('updateDirectory', `mutation($input: UpdateDirectoryInput!) { updateDirectory(input: $input) { id } }`, {
      directory: { code: published[0].code },
      updateCycle: 'YEARLY',
    });
    await call('refreshMount', `mutation($input: RefreshMountInput!) { refreshMount(input: $input) { id } }`, {
      mountId: mounts[0],
      recordCount: random.int(1, 10_000),
    });

    // Subscriptions across departments: granted at once, pending, approved, rejected, revoked, cancelled.
    const request = `mutation($input: RequestSubscriptionInput!) { requestSubscription(input: $input) { id status } }`;
    const decision = (name: string) => `mutation($input: SubscriptionDecisionInput!) { ${name}(input: $input) { id } }`;
    const requests: { id: string; status: string }[] = [];
    for (const directory of published.filter((p) => p.shareType !== 'NOT_SHARED')) {
      for (const [d, requester] of departments.entries()) {
        if (d === directory.department) continue;
        requests.push(await call('requestSubscription', request, { directory: { code: directory.code }, requesterCreditCode: requester, purpose: '业务协同' }));
      }
    }
    const pending = requests.filter((r) => r.status === 'PENDING');
    const granted = requests.filter((r) => r.status === 'GRANTED');
    if (pending.length < 2 || granted.length < 2)
      throw new Error(`the generated data needs 2 pending and 2 granted requests, has ${pending.length} and ${granted.length}: change the seed`);
    await call('approveSubscriptionRequest', decision('approveSubscriptionRequest'), { id: pending[0].id });
    await call('rejectSubscriptionRequest', decision('rejectSubscriptionRequest'), { id: pending[1].id, reason: '用途不明确' });
    await call('revokeSubscription', decision('revokeSubscription'), { id: granted[0].id, reason: '协议到期' });
    await call('cancelSubscription', `mutation($input: CancelSubscriptionInput!) { cancelSubscription(input: $input) { id } }`, { id: granted[1].id });

    // Supervision: main items, sub-items of every category, records (with a correction), a move.
    for (const department of departments.slice(0, 2)) {
      for (const m of [1, 2]) {
        await call('createSupervisionMainItem', `mutation($input: CreateSupervisionMainItemInput!) { createSupervisionMainItem(input: $input) { code } }`, {
          departmentCreditCode: department,
          code: `M${m}`,
          name: `主项${m}`,
          legalBasis: '《中华人民共和国行政处罚法》',
        });
      }
      for (const [s, category] of CATEGORIES.entries()) {
        await call('createSupervisionSubItem', `mutation($input: CreateSupervisionSubItemInput!) { createSupervisionSubItem(input: $input) { code } }`, {
          departmentCreditCode: department,
          mainItemCode: `M${1 + (s % 2)}`,
          code: `S${s}`,
          name: `子项${s}`,
          category,
        });
      }
      const records = Array.from({ length: random.int(3, 8) }, (_, r) => ({
        subItemCode: `S${random.int(0, 2)}`,
        source: 'zfjd',
        externalId: `${department}-${r}`,
        occurredAt: new Date(Date.now() - r * 3600_000).toISOString(),
      }));
      const ingest = `mutation($input: IngestSupervisionRecordsInput!) { ingestSupervisionRecords(input: $input) { accepted } }`;
      await call('ingestSupervisionRecords', ingest, { departmentCreditCode: department, records });
      const corrected = records[0];
      await call('ingestSupervisionRecords', ingest, {
        departmentCreditCode: department,
        records: [{ ...corrected, externalId: `${corrected.externalId}-fix`, supersedes: { source: corrected.source, externalId: corrected.externalId } }],
      });
      await call('moveSupervisionSubItem', `mutation($input: MoveSupervisionSubItemInput!) { moveSupervisionSubItem(input: $input) { code } }`, {
        departmentCreditCode: department,
        subItemCode: 'S0',
        toMainItemCode: 'M2',
      });
    }

    // A hosted dataset: rows loaded, then replaced; a granted department reads a page (a delivery the usage figures count).
    const shared = published.find((p) => p.shareType === 'UNCONDITIONAL');
    if (!shared) throw new Error('the generated data needs an unconditionally shared published directory: change the seed');
    const hosted = await call<{ id: string }>('mountDataset', `mutation($input: MountDatasetInput!) { mountDataset(input: $input) { id } }`, {
      directory: { code: shared.code },
      kind: 'TABLE',
      locator: `mulu:${shared.code}`,
      hosted: true,
    });
    const rowsOf = (n: number) => Array.from({ length: n }, (_, i) => ({ 名称: `记录${i}` }));
    await call('appendDatasetRows', `mutation($input: DatasetRowsInput!) { appendDatasetRows(input: $input) { recordCount } }`, {
      mountId: hosted.id,
      rows: rowsOf(random.int(2, 9)),
    });
    await call('replaceDatasetRows', `mutation($input: DatasetRowsInput!) { replaceDatasetRows(input: $input) { recordCount } }`, {
      mountId: hosted.id,
      rows: rowsOf(random.int(2, 9)),
    });
    const reader = departments.find((_, d) => d !== shared.department)!;
    await call('requestSubscription', request, { directory: { code: shared.code }, requesterCreditCode: reader, purpose: '数据核验' });
    const consumer = await api.asRole('STEWARD', reader);
    await consumer.ok(`{ directory(code: "${shared.code}") { rows(first: 3) { edges { node { rowNumber } } } } }`);
    // The delivery is logged; the usage fold adds it to the figures (within a second in a server; here at once).
    await api.settleUsage();

    await call('unmountDataset', `mutation($input: UnmountDatasetInput!) { unmountDataset(input: $input) { id } }`, { mountId: mounts[1] });
    await call('withdrawDirectory', transition('withdrawDirectory'), { directory: { code: published[1].code } });
    await call('captureSnapshot', `mutation($input: CaptureSnapshotInput!) { captureSnapshot(input: $input) { period } }`, { period: '2025-01' });
    await call(
      'captureSnapshot',
      `mutation($input: CaptureSnapshotInput!) { captureSnapshot(input: $input) { period } }`,
      { period: '2025-01', replace: true },
      ['replaceSnapshot'],
    );

    await call('updateWebhook', `mutation($input: UpdateWebhookInput!) { updateWebhook(input: $input) { id } }`, { id: hook.webhook.id, active: false });
    await call('testWebhook', `mutation($input: ID!) { testWebhook(id: $input) { status } }`, hook.webhook.id);
    // The outbox holds an event of every kind a mutation causes (the clock's and the rate crossings need dates or a month before).
    const written: { type: string }[] = await api.orm.em.fork().execute(`select distinct type from notification_event order by type`);
    expect(written.map((row) => row.type)).toEqual(
      expect.arrayContaining([
        'DATASET_ROWS_LOADED',
        'DIRECTORY_PUBLISHED',
        'DIRECTORY_WITHDRAWN',
        'SNAPSHOT_CAPTURED',
        'SUBSCRIPTION_APPROVED',
        'SUBSCRIPTION_CANCELLED',
        'SUBSCRIPTION_REJECTED',
        'SUBSCRIPTION_REQUESTED',
        'SUBSCRIPTION_REVOKED',
        'WEBHOOK_TEST',
      ]),
    );
    await call('deleteWebhook', `mutation($input: ID!) { deleteWebhook(id: $input) { id } }`, hook.webhook.id);

    const schema = await buildMuluSchema();
    const mutationType = schema.getMutationType()!;
    const notWalked = Object.keys(mutationType.getFields()).filter((name) => !walked.has(name));
    expect(notWalked.map((name) => `${name} is not walked: add a step to this test`)).toEqual([]);
    expect(failures).toEqual([]);
    // The walk produced figures worth checking: something of every kind was counted.
    const [totals] = await api.orm.em
      .fork()
      .execute(
        `select sum(published_directories) p, sum(stale_directories) s, sum(subscriptions_made) m, sum(covered_main_items) c, sum(usage_rows_received) u from department_figures`,
      );
    expect(
      Object.values(totals)
        .map(Number)
        .every((value) => value > 0),
    ).toBe(true);
  });
});
