/**
 * The attacker's side of `npm run bench:abuse` (abuse-memory.ts), in a process of its own: every abuse case of issue 11 in a loop on several connections,
 * and one dashboard reader timing each answer. Prints one JSON line of results.
 */
import net from 'node:net';

const url = process.env.ABUSE_URL;
const tokens = JSON.parse(process.env.ABUSE_TOKENS);
const dashboard = JSON.parse(process.env.ABUSE_DASHBOARD);
const seconds = Number(process.env.ABUSE_SECONDS ?? 60);
const attackers = Number(process.env.ABUSE_ATTACKERS ?? 4);

async function post(body, token, headers = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body,
  });
  const text = await response.text();
  let code = '-';
  try {
    code = JSON.parse(text).errors?.[0]?.extensions?.code ?? 'ok';
  } catch {
    code = 'not JSON';
  }
  return `${response.status} ${code}`;
}
const gql = (query, variables) => JSON.stringify({ query, variables });

const nested = (depth) => (depth === 0 ? 'name' : `name region { departments(first: 500) { edges { node { ${nested(depth - 1)} } } } }`);
const attacks = {
  'nested pages padded with 10,000 __typename aliases': () =>
    post(
      gql(
        `{ ${Array.from({ length: 10_000 }, (_, i) => `t${i}: __typename`).join(' ')} region(code: "410505") { departments(first: 500) { edges { node { ${nested(4)} } } } } }`,
      ),
      tokens.viewer,
    ),
  'recordCount 9007199254740991': () =>
    post(
      gql(
        `mutation { mountDataset(input: { directory: { code: "${tokens.directoryCode}" }, kind: TABLE, locator: "t", recordCount: 9007199254740991 }) { id } }`,
      ),
      tokens.steward,
    ),
  'NUL in a name': () =>
    post(
      gql('mutation($n: String!) { updateDirectory(input: { directory: { code: "' + tokens.directoryCode + '" }, name: $n }) { code } }', { n: 'a\u0000b' }),
      tokens.steward,
    ),
  'NUL in region(code)': () => post(gql('query($c: String!) { region(code: $c) { name } }', { c: '41\u00000505' }), tokens.viewer),
  'name: null': () => post(gql(`mutation { updateDirectory(input: { directory: { code: "${tokens.directoryCode}" }, name: null }) { code } }`), tokens.steward),
  'two operations, no operationName': () => post(gql('query A { __typename } query B { __typename }'), tokens.viewer),
  'JSON nested 100,000 deep': () => post(`{"query":"{ __typename }","variables":{"x":${'['.repeat(100_000)}${']'.repeat(100_000)}}}`, tokens.viewer),
  '1,000 aliases of region.report': () =>
    post(gql(`{ region(code: "410000") { ${Array.from({ length: 1000 }, (_, i) => `r${i}: report { departments { name } }`).join(' ')} } }`), tokens.viewer),
  '1 MB search text': () =>
    post(gql('query($t: String!) { directories(first: 500, filter: { text: $t }) { totalCount } }', { t: '目'.repeat(350_000) }), tokens.viewer),
  'province report of every department, 3 aliases': () =>
    post(
      gql(
        `{ region(code: "410000") { ${['a', 'b', 'c'].map((a) => `${a}: report { departments { code name figures { mount { dataVolume mountRatePercent } } ranks { metric rank } } }`).join(' ')} } }`,
      ),
      tokens.viewer,
    ),
  'JWT issued a day ahead': () => post(gql('{ viewer { name } }'), tokens.future),
};

/** Announces 50 MB and sends a byte a second, anonymously, as finding 7's senders did. */
function slowSender() {
  return new Promise((resolve) => {
    const { hostname, port } = new URL(url);
    const socket = net.connect(Number(port), hostname, () => {
      socket.write(`POST /graphql HTTP/1.1\r\nHost: ${hostname}\r\ncontent-type: application/json\r\ncontent-length: 50000000\r\n\r\n`);
      const drip = setInterval(() => socket.write('{'), 1000);
      let answer = '';
      socket.on('data', (chunk) => (answer += chunk));
      socket.on('close', () => {
        clearInterval(drip);
        resolve(answer.split('\r\n')[0] || 'closed');
      });
      socket.on('error', () => undefined);
    });
  });
}

const baselineSeconds = Number(process.env.ABUSE_BASELINE_SECONDS ?? 20);
const outcomes = {};
const note = (name, outcome) => {
  outcomes[name] ??= {};
  outcomes[name][outcome] = (outcomes[name][outcome] ?? 0) + 1;
};
let until = Date.now() + baselineSeconds * 1000;
// ABUSE_ONLY: the cases whose names contain one of these comma-separated words (all by default).
const only = (process.env.ABUSE_ONLY ?? '').split(',').filter(Boolean);
const names = Object.keys(attacks).filter((name) => only.length === 0 || only.some((word) => name.includes(word)));
const slowSenders = only.length === 0 || only.some((word) => 'slow sender'.includes(word)) ? 2 : 0;

async function attacker(offset) {
  for (let i = offset; Date.now() < until && names.length > 0; i++) {
    const name = names[i % names.length];
    note(name, await attacks[name]().catch((error) => `failed: ${error.message}`));
  }
}
async function senders() {
  while (Date.now() < until) note('slow anonymous sender (50 MB announced, 1 byte/s)', await slowSender());
}
async function reader(latencies, name) {
  while (Date.now() < until) {
    const started = performance.now();
    const outcome = await post(gql(dashboard.query, dashboard.variables), tokens.reader, { 'cache-control': 'no-cache' });
    latencies.push(performance.now() - started);
    note(name, outcome);
  }
}
function summary(latencies) {
  latencies.sort((a, b) => a - b);
  const at = (q) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]);
  return { answers: latencies.length, p50: at(0.5), p95: at(0.95), max: Math.round(latencies[latencies.length - 1]) };
}

// The dashboard alone first: what this machine gives it without attackers.
const alone = [];
await reader(alone, 'dashboard region page (no-cache), alone');
// The server's side (abuse-memory.ts) reads its memory here and watches it from now on.
process.send?.('attack');
until = Date.now() + seconds * 1000;
const underAttack = [];
await Promise.all([
  ...Array.from({ length: attackers }, (_, i) => attacker(i * 3)),
  ...Array.from({ length: slowSenders }, () => senders()),
  reader(underAttack, 'dashboard region page (no-cache), under attack'),
]);
process.stdout.write(JSON.stringify({ outcomes, dashboardAlone: summary(alone), dashboardUnderAttack: summary(underAttack) }) + '\n');
