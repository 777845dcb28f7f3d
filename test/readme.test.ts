import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRegions } from './support/builders';
import { startTestServer, type TestServer } from './support/test-server';

/**
 * The example requests of the README and of docs/operations.md, sent as
 * written (placeholders filled with real tokens) to the real server: a
 * newcomer copying them must get figures, not UNAUTHENTICATED.
 */
const README = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
const OPERATIONS = readFileSync(join(__dirname, '..', 'docs', 'operations.md'), 'utf8');

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
    word = (word ?? '') + (single ?? (double !== undefined ? expand(double.replace(/\\(.)/g, '$1')) : expand(bare!)));
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
    await createRegions(api, [{ code: '410000', name: '河南省' }, { code: '410500', name: '安阳市' }, { code: '410505', name: '殷都区' }]);
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
      await createRegions(open, [{ code: '410000', name: '河南省' }, { code: '410500', name: '安阳市' }, { code: '410505', name: '殷都区' }]);
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
    await createRegions(api, [{ code: '410000', name: '河南省' }, { code: '410500', name: '安阳市' }, { code: '410505', name: '殷都区' }]);
  });
  afterAll(() => api.close());

  it('sets MULU_ADMIN_TOKEN, and its request, sent with that key, gets the figures', async () => {
    const text = section('Running against an external PostgreSQL', OPERATIONS, 'docs/operations.md');
    expect(codeBlocks(text, 'sh').join('\n')).toMatch(/^export MULU_ADMIN_TOKEN=/m);
    const curls = graphqlCurls(text, { MULU_ADMIN_TOKEN: api.adminToken });
    expect(curls).toHaveLength(1);
    const response = await send(api, curls[0], {});
    expect(response.errors).toBeUndefined();
    expect(response.data).toEqual({ viewer: { name: 'Bootstrap administrator', role: 'ADMIN' }, region: { name: '殷都区', mountStats: { mountRatePercent: null } } });
  });
});
