import WebSocket from 'ws';
import { checkDocumentNesting, MAX_DOCUMENT_NESTING } from '../../src/graphql/limits';
import { startTestServer, type TestServer } from '../support/test-server';

const REFUSAL = `The document nests brackets more than ${MAX_DOCUMENT_NESTING} deep ({, [ and ( together); no query or value of this API needs that many. Send a flatter document.`;

/** A query whose argument is a list literal nested `depth` deep: 2 × depth tokens, under MULU_MAX_TOKENS (5,000) at 2,400. */
const nestedList = (depth: number) => `{ region(code: ${'['.repeat(depth)}${']'.repeat(depth)}) { name } }`;

/**
 * graphql-js parses nested values and selections by recursion. A list
 * literal nested 2,400 deep, within the token limit, overflowed the stack:
 * HTTP answered GRAPHQL_PARSE_FAILED 'Maximum call stack size exceeded', and
 * graphql-ws closed the whole connection with 4500 (the parse hook returned
 * the RangeError where graphql-ws takes only GraphQL errors). Documents are
 * now refused past MAX_DOCUMENT_NESTING brackets before anything parses them.
 */
describe('document nesting', () => {
  let api: TestServer;
  beforeAll(async () => {
    api = await startTestServer();
  });
  afterAll(() => api.close());

  it('counts brackets of the document, not of its strings, block strings and comments', () => {
    const nested = (depth: number) => `${'{ a '.repeat(depth)}${'}'.repeat(depth)}`;
    expect(() => checkDocumentNesting(nested(MAX_DOCUMENT_NESTING))).not.toThrow();
    expect(() => checkDocumentNesting(nested(MAX_DOCUMENT_NESTING + 1))).toThrow(REFUSAL);
    const brackets = '['.repeat(100);
    for (const text of [`{ a(s: "${brackets}\\"${brackets}") }`, `{ a(s: """${brackets}\\"""${brackets}""") }`, `# ${brackets}\n{ a }`]) {
      expect(() => checkDocumentNesting(text)).not.toThrow();
    }
    expect(() => checkDocumentNesting(`{ a(s: "\\\\") ${nested(MAX_DOCUMENT_NESTING)} }`)).toThrow(REFUSAL);
  });

  it('is refused over HTTP, POST and GET, with 400 and a message saying why', async () => {
    const post = await fetch(api.server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${api.adminToken}` },
      body: JSON.stringify({ query: nestedList(2400) }),
    });
    expect({ status: post.status, body: await post.json() }).toEqual({
      status: 400,
      body: { errors: [{ message: REFUSAL, extensions: { code: 'GRAPHQL_PARSE_FAILED' } }] },
    });
    const get = await fetch(`${api.server.url}?query=${encodeURIComponent(nestedList(2400))}`, {
      headers: { authorization: `Bearer ${api.adminToken}`, 'apollo-require-preflight': 'true' },
    });
    expect({ status: get.status, body: await get.json() }).toEqual({
      status: 400,
      body: { errors: [{ message: REFUSAL, extensions: { code: 'GRAPHQL_PARSE_FAILED' } }] },
    });
    // Within the limit the document reaches the parser and the schema as before.
    expect((await api.request(nestedList(MAX_DOCUMENT_NESTING - 2))).errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('is refused over graphql-ws as that operation’s error; the connection stays open for the next', async () => {
    const socket = new WebSocket(api.server.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
    const messages: { id?: string; type: string; payload?: unknown }[] = [];
    let closeCode: number | null = null;
    socket.on('close', (code) => (closeCode = code));
    const arrived = (id: string, type: string) =>
      new Promise<void>((resolve) => {
        const look = () => (messages.some((m) => m.id === id && m.type === type) || closeCode !== null ? resolve() : setTimeout(look, 20));
        look();
      });
    socket.on('message', (data) => messages.push(JSON.parse(String(data))));
    await new Promise<void>((resolve) => socket.on('open', resolve));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${api.adminToken}` } }));
    await new Promise<void>((resolve) => {
      const look = () => (messages.some((m) => m.type === 'connection_ack') ? resolve() : setTimeout(look, 20));
      look();
    });
    const subscription = (depth: number) => `subscription { figuresChanged(regionCode: ${'['.repeat(depth)}${']'.repeat(depth)}) { regionCode } }`;
    socket.send(JSON.stringify({ id: 'deep', type: 'subscribe', payload: { query: subscription(2400) } }));
    await arrived('deep', 'error');
    socket.send(JSON.stringify({ id: 'next', type: 'subscribe', payload: { query: subscription(1) } }));
    await arrived('next', 'error');
    socket.close();
    expect(messages.find((m) => m.id === 'deep')).toEqual({
      id: 'deep',
      type: 'error',
      payload: [{ message: REFUSAL, extensions: { code: 'GRAPHQL_PARSE_FAILED' } }],
    });
    // The next operation was read and validated (its error is the schema's), so the socket was not closed by the first.
    expect(messages.find((m) => m.id === 'next')).toMatchObject({
      type: 'error',
      payload: [{ message: 'String cannot represent a non string value: []', extensions: { code: 'BAD_REQUEST' } }, {}],
    });
    expect(closeCode).not.toBe(4500);
  });
});
