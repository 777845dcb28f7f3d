import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kind, parse, print, type OperationDefinitionNode } from 'graphql';
import { demoStewardDepartment } from '../src/db/demo-seed';
import { createRegions } from './support/builders';
import { startTestServer, type TestServer } from './support/test-server';

/**
 * The example requests of the README, docs/operations.md, docs/api.md and docs/security.md, sent as
 * written (placeholders filled with real tokens) to the real server: a
 * newcomer copying them must get figures, not UNAUTHENTICATED.
 */
const README = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
const OPERATIONS = readFileSync(join(__dirname, '..', 'docs', 'operations.md'), 'utf8');
const API = readFileSync(join(__dirname, '..', 'docs', 'api.md'), 'utf8');
const SECURITY = readFileSync(join(__dirname, '..', 'docs', 'security.md'), 'utf8');

function section(title: string, text = README, file = 'README'): string {
  const start = text.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`${file} has no section "${title}"`);
  const end = text.indexOf('\n## ', start + 1);
  return text.slice(start, end < 0 ? undefined : end);
}

const codeBlocks = (text: string, language: string) => [...text.matchAll(new RegExp('```' + language + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]);

/** Splits one shell command into words: single quotes literal, double quotes with $VAR expanded. */
function shellWords(command: string, variables: Record<string, string>): string[] {
  const words: string[] = [];
  let word: string | null = null;
  const re = /'([^']*)'|"((?:[^"\\]|\\.)*)"|(\s+)|([^\s'"]+)/g;
  for (const [, single, double, space, bare] of command.matchAll(re)) {
    if (space !== undefined) {
      if (word !== null) words.push(word);
      word = null;
      continue;
    }
    const expand = (text: string) => text.replace(/\$([A-Za-z_][A-Za-z0-9_]*)/g, (_, name) => variables[name] ?? '');
    word = (word ?? '') + (single ?? (double !== undefined ? expand(double.replace(/\\(.)/g, '$1')) : expand(bare)));
  }
  if (word !== null) words.push(word);
  return words;
}

interface CurlRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** The `curl ... /graphql` commands of a text, as requests. */
function graphqlCurls(text: string, variables: Record<string, string>): CurlRequest[] {
  return codeBlocks(text, 'sh')
    .flatMap((block) => block.replace(/\\\n/g, ' ').split('\n'))
    .filter((line) => /^curl .*\/graphql/.test(line.trim()))
    .map((line) => {
      const words = shellWords(line.trim(), variables);
      const request: CurlRequest = { url: '', headers: {}, body: '' };
      for (let i = 1; i < words.length; i++) {
        if (words[i] === '-H') {
          const [name, ...value] = words[++i].split(':');
          request.headers[name.trim().toLowerCase()] = value.join(':').trim();
        } else if (words[i] === '-d') request.body = words[++i];
        else if (!words[i].startsWith('-')) request.url = words[i];
      }
      return request;
    });
}

async function send(api: TestServer, request: CurlRequest, tokens: Record<string, string>) {
  expect(request.url).toMatch(/^(http:\/\/)?localhost:4000\/graphql$/);
  const headers = Object.fromEntries(
    Object.entries(request.headers).map(([name, value]) => [
      name,
      value.replace(/<([^>]*)>/g, (placeholder, text: string) => {
        const role = Object.keys(tokens).find((r) => text.includes(r));
        if (!role) throw new Error(`no token for the placeholder ${placeholder}`);
        return tokens[role];
      }),
    ]),
  );
  const response = await fetch(api.server.url, { method: 'POST', headers, body: request.body });
  return { status: response.status, ...((await response.json()) as { data?: any; errors?: { extensions?: { code?: string } }[] }) };
}

describe('README: "An example query"', () => {
  let api: TestServer;
  let tokens: Record<string, string>;
  beforeAll(async () => {
    api = await startTestServer();
    await createRegions(api, [
      { code: '410000', name: '河南省' },
      { code: '410500', name: '安阳市' },
      { code: '410505', name: '殷都区' },
    ]);
    // What `npm start` prints: demo tokens of each role.
    tokens = { admin: api.adminToken, viewer: await api.signToken({ role: 'VIEWER' }) };
  });
  afterAll(() => api.close());

  it('the shell example sends a token and gets the figures', async () => {
    const curls = graphqlCurls(section('An example query'), {});
    expect(curls).toHaveLength(1);
    expect(curls[0].headers.authorization).toMatch(/^Bearer </);
    const response = await send(api, curls[0], tokens);
    expect(response.errors).toBeUndefined();
    expect(response.data.region).toEqual({ name: '殷都区', mountStats: { mountRatePercent: null } });
  });

  it('the GraphQL example runs with the header the section tells to add, and is refused without it', async () => {
    const [query] = codeBlocks(section('An example query'), 'graphql');
    expect(section('An example query')).toContain('Authorization: Bearer <token>');
    const signedIn = await api.withToken(tokens.viewer).request(query);
    expect(signedIn.errors).toBeUndefined();
    expect(signedIn.data?.region.name).toBe('殷都区');
    expect((await api.anonymous.request(query)).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('names MULU_ANONYMOUS_STATS, and with it both examples run without a token', async () => {
    const text = section('An example query');
    expect(text).toContain('MULU_ANONYMOUS_STATS=true');
    const open = await startTestServer({ anonymousStats: true });
    try {
      await createRegions(open, [
        { code: '410000', name: '河南省' },
        { code: '410500', name: '安阳市' },
        { code: '410505', name: '殷都区' },
      ]);
      const [query] = codeBlocks(text, 'graphql');
      const graphql = await open.anonymous.request(query);
      expect(graphql.errors).toBeUndefined();
      expect(graphql.data?.region.name).toBe('殷都区');
      const [curl] = graphqlCurls(text, {});
      delete curl.headers.authorization;
      expect((await send(open, curl, {})).data.region.name).toBe('殷都区');
    } finally {
      await open.close();
    }
  });
});

describe('docs/operations.md: "Running against an external PostgreSQL"', () => {
  let api: TestServer;
  beforeAll(async () => {
    api = await startTestServer();
    await createRegions(api, [
      { code: '410000', name: '河南省' },
      { code: '410500', name: '安阳市' },
      { code: '410505', name: '殷都区' },
    ]);
  });
  afterAll(() => api.close());

  it('sets MULU_ADMIN_TOKEN, and its request, sent with that key, gets the figures', async () => {
    const text = section('Running against an external PostgreSQL', OPERATIONS, 'docs/operations.md');
    expect(codeBlocks(text, 'sh').join('\n')).toMatch(/^export MULU_ADMIN_TOKEN=/m);
    const curls = graphqlCurls(text, { MULU_ADMIN_TOKEN: api.adminToken });
    expect(curls).toHaveLength(1);
    const response = await send(api, curls[0], {});
    expect(response.errors).toBeUndefined();
    expect(response.data).toEqual({
      viewer: { name: 'Bootstrap administrator', role: 'ADMIN' },
      region: { name: '殷都区', mountStats: { mountRatePercent: null } },
    });
  });
});

/** The first JSON value (array or object) of `text` from `start`, brackets balanced outside strings. */
function jsonAt(text: string, start: number): unknown {
  const open = text.slice(start).search(/[[{]/) + start;
  let depth = 0;
  for (let i = open, inString = false; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '[' || c === '{') depth++;
    else if ((c === ']' || c === '}') && --depth === 0) return JSON.parse(text.slice(open, i + 1));
  }
  throw new Error(`no complete JSON value after index ${start}`);
}

/** The operations of a GraphQL code block, each printed on its own, with its name (or its first field). */
function operations(block: string): { kind: 'query' | 'mutation'; fields: string[]; text: string }[] {
  return parse(block)
    .definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)
    .map((d) => ({
      kind: d.operation as 'query' | 'mutation',
      fields: d.selectionSet.selections.map((s) => (s.kind === Kind.FIELD ? s.name.value : '')),
      text: print(d),
    }));
}

/** The `curl` commands of a text that read (GET, no request body), as URL paths with their Authorization placeholder. */
function getCurls(text: string): { path: string; authorization: string }[] {
  return codeBlocks(text, 'sh')
    .flatMap((block) => block.replace(/\\\n/g, ' ').split('\n'))
    .filter((line) => /^curl /.test(line.trim()) && !/\s(-d|--data-binary)\s/.test(line))
    .map((line) => {
      const words = shellWords(line.trim(), {});
      const url = words.find((w) => /^(http:\/\/)?localhost:4000\//.test(w))!;
      return { path: url.replace(/^(http:\/\/)?localhost:4000/, ''), authorization: words[words.indexOf('-H') + 1].replace(/^authorization:\s*/i, '') };
    });
}

/**
 * The same examples on the demo `npm start` loads, with the tokens it prints
 * (admin, steward of 殷都区民政局, viewer), as a newcomer would send them:
 * figures, not FORBIDDEN or a batch refused.
 */
describe('README and docs/api.md examples on the demo, with the printed tokens', () => {
  let api: TestServer;
  let tokens: { admin: string; steward: string; viewer: string };
  beforeAll(async () => {
    api = await startTestServer({ demo: true });
    tokens = api.demoTokens!;
  }, 900_000);
  afterAll(() => api?.close());

  it('README: both forms of the example query answer with the demo figures', async () => {
    const [query] = codeBlocks(section('An example query'), 'graphql');
    const data = await api.withToken(tokens.viewer).ok(query);
    expect(data.region.name).toBe('殷都区');
    expect(data.region.mountStats.publishedDirectories).toBeGreaterThan(0);
    expect(data.region.departments.edges.length).toBeGreaterThan(0);
    const [curl] = graphqlCurls(section('An example query'), {});
    const response = await send(api, curl, tokens);
    expect(response.errors).toBeUndefined();
    expect(response.data.region).toEqual({ name: '殷都区', mountStats: { mountRatePercent: data.region.mountStats.mountRatePercent } });
  });

  it('docs/security.md "Authentication and roles": the example, with the printed steward token, names the steward and its department', async () => {
    const curls = graphqlCurls(section('Authentication and roles', SECURITY, 'docs/security.md'), {});
    expect(curls).toHaveLength(1);
    expect(curls[0].headers.authorization).toBe('Bearer <steward token printed at start>');
    const response = await send(api, curls[0], tokens);
    expect(response.errors).toBeUndefined();
    expect(response.data.viewer).toMatchObject({ role: 'STEWARD', departmentCreditCode: demoStewardDepartment().creditCode });
    expect(response.data.department.name).toBe(demoStewardDepartment().name);
  });

  it('docs/api.md "Supervision coverage": the steward it names registers items and pushes both batches; the query reads them', async () => {
    const text = section('Supervision coverage (监管事项覆盖)', API, 'docs/api.md');
    const [block] = codeBlocks(text, 'graphql');
    const [items, push, query] = operations(block);
    // The department the example writes to is the printed steward's own.
    expect(items.text).toContain(`departmentCreditCode: "${demoStewardDepartment().creditCode}"`);
    expect(text).toContain(demoStewardDepartment().creditCode);
    const steward = api.withToken(tokens.steward);
    const created = await steward.ok(items.text);
    expect(created).toEqual({ createSupervisionMainItem: { code: '330217001000' }, createSupervisionSubItem: { code: '330217001001' } });
    // The comments give the variables of two calls: the records, then a correction of the first.
    const comments = block
      .split('\n')
      .filter((line) => /^\s*#/.test(line))
      .map((line) => line.replace(/^\s*#\s?/, ''))
      .join('\n');
    const batches = [...comments.matchAll(/\$records:/g)].map((m) => jsonAt(comments, m.index! + m[0].length));
    expect(batches).toHaveLength(2);
    for (const records of batches) {
      const answer = await steward.ok(push.text, { records });
      expect(answer.ingestSupervisionRecords).toMatchObject({ accepted: (records as unknown[]).length, duplicates: 0, rejected: [], stored: true });
    }
    const stats = await api.withToken(tokens.viewer).ok(query.text);
    expect(stats.region.supervisionStats.records).toBeGreaterThan(0);
    expect(stats.region.lowCoverage.length).toBeGreaterThan(0);
  });

  it('docs/api.md "Monthly report": the admin captures the month it names, and the report compares June with May', async () => {
    const text = section('Monthly report (通报): snapshots and change', API, 'docs/api.md');
    const [capture, report] = operations(codeBlocks(text, 'graphql')[0]);
    expect(capture.fields).toEqual(['captureSnapshot']);
    const captured = await api.withToken(tokens.admin).ok(capture.text);
    expect(captured.captureSnapshot.departmentCount).toBeGreaterThan(0);
    const data = await api.withToken(tokens.viewer).ok(report.text);
    expect(data.region.report).toMatchObject({ period: '2023-06', source: 'SNAPSHOT', comparedTo: '2023-05' });
    expect(data.region.report.region.change.mountRatePoints).not.toBe(0);
  });

  it('docs/api.md: the downloads (appendix exports, import templates) answer 200 with the printed tokens', async () => {
    const base = api.server.url.replace(/\/graphql$/, '');
    const curls = [
      ...getCurls(section('Appendix exports (附件4, 附件5)', API, 'docs/api.md')),
      ...getCurls(section('Bulk import (批量导入)', API, 'docs/api.md')),
    ];
    expect(curls.length).toBeGreaterThanOrEqual(3);
    for (const curl of curls) {
      expect(curl.authorization).toBe('Bearer <token>');
      // "<token>": any of the printed tokens; the viewer's is the least privileged.
      const response = await fetch(base + curl.path, { headers: { authorization: `Bearer ${tokens.viewer}` } });
      expect({ path: curl.path, status: response.status }).toEqual({ path: curl.path, status: 200 });
      expect((await response.arrayBuffer()).byteLength).toBeGreaterThan(100);
    }
  });
});
