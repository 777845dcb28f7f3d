// Measures supervision record ingestion through the GraphQL API, end to end
// (HTTP, JSON, validation, one transaction per batch).
//
//   npm run build
//   DATABASE_URL=postgres://... MULU_DEMO=0 PORT=4100 node dist/src/main.js &
//   node scripts/bench-ingestion.mjs http://localhost:4100/graphql [batches=20] [clients=1] [subItems=2000]
//
// Creates its own region, department and sub-items (named after the run, so it
// can be rerun on the same database), then sends `batches` batches of 10,000
// records from `clients` concurrent clients and prints records per second.
// Not a test: a benchmark harness is planned separately.
const [url = 'http://localhost:4100/graphql', batchesArg = '20', clientsArg = '1', subItemsArg = '2000'] = process.argv.slice(2);
const batches = Number(batchesArg);
const clients = Number(clientsArg);
const subItemCount = Number(subItemsArg);
const BATCH = 10_000;
const run = Date.now().toString(36);

async function gql(query, variables) {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  const body = await response.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

// A valid unified social credit code (GB 32100-2015 check character).
const ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
function creditCode(seed) {
  const first17 = `11410505${String(seed).padStart(9, '0')}`.slice(0, 17);
  const sum = [...first17].reduce((s, ch, i) => s + ALPHABET.indexOf(ch) * WEIGHTS[i], 0);
  return first17 + ALPHABET[(31 - (sum % 31)) % 31];
}

async function mutations(field, type, inputs, chunk = 200) {
  for (let start = 0; start < inputs.length; start += chunk) {
    const part = inputs.slice(start, start + chunk);
    await gql(
      `mutation(${part.map((_, i) => `$i${i}: ${type}!`).join(', ')}) { ${part.map((_, i) => `m${i}: ${field}(input: $i${i}) { __typename }`).join(' ')} }`,
      Object.fromEntries(part.map((input, i) => [`i${i}`, input])),
    );
  }
}

async function main() {
  for (const [code, name] of [['410000', '河南省'], ['410500', '安阳市'], ['410505', '殷都区']]) {
    await gql(`mutation($i: CreateRegionInput!) { createRegion(input: $i) { code } }`, { i: { code, name } }).catch(() => undefined);
  }
  const dept = creditCode(Number.parseInt(run, 36) % 1e9);
  await gql(`mutation($i: CreateDepartmentInput!) { createDepartment(input: $i) { id } }`, { i: { creditCode: dept, name: `压测部门${run}`, regionCode: '410505' } });
  const mains = Math.ceil(subItemCount / 5);
  await mutations('createSupervisionMainItem', 'CreateSupervisionMainItemInput', Array.from({ length: mains }, (_, m) => ({ departmentCreditCode: dept, code: `M${m}`, name: `主项${m}`, legalBasis: '依据' })));
  const categories = ['INSPECTION', 'PENALTY', 'COERCION', 'OTHER'];
  await mutations(
    'createSupervisionSubItem',
    'CreateSupervisionSubItemInput',
    Array.from({ length: subItemCount }, (_, s) => ({ departmentCreditCode: dept, mainItemCode: `M${s % mains}`, code: `S${s}`, name: `子项${s}`, category: categories[s % 4] })),
  );

  const makeBatch = (b) =>
    Array.from({ length: BATCH }, (_, i) => ({
      subItemCode: `S${(b * 7919 + i * 31) % subItemCount}`,
      source: 'bench',
      externalId: `${run}-${b}-${i}`,
      occurredAt: new Date(Date.UTC(2023, 5, 1) + i * 1000).toISOString(),
      payload: { inspector: `执法人员${i % 50}`, result: i % 3 === 0 ? '合格' : '整改' },
    }));
  const mutation = `mutation($input: IngestSupervisionRecordsInput!) { ingestSupervisionRecords(input: $input) { accepted duplicates rejected { index reason } } }`;
  // Warm-up batch, not timed.
  await gql(mutation, { input: { departmentCreditCode: dept, records: makeBatch(-1).map((r) => ({ ...r, externalId: `warm-${r.externalId}` })) } });

  let next = 0;
  let accepted = 0;
  const latencies = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < batches) {
        const b = next++;
        const records = makeBatch(b);
        const t0 = performance.now();
        const data = await gql(mutation, { input: { departmentCreditCode: dept, records } });
        latencies.push(performance.now() - t0);
        if (data.ingestSupervisionRecords.rejected.length) throw new Error(JSON.stringify(data.ingestSupervisionRecords.rejected.slice(0, 3)));
        accepted += data.ingestSupervisionRecords.accepted;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  console.log(
    JSON.stringify({
      batches,
      clients,
      recordsPerBatch: BATCH,
      subItems: subItemCount,
      accepted,
      seconds: Number(seconds.toFixed(2)),
      recordsPerSecond: Math.round(accepted / seconds),
      batchMs: { median: Math.round(latencies[Math.floor(latencies.length / 2)]), max: Math.round(latencies.at(-1)) },
    }),
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
