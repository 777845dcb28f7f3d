import fc from 'fast-check';
import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLOutputType,
  type GraphQLSchema,
} from 'graphql';
import { buildMuluSchema } from '../../src/graphql/schema';
import { addDirectory, createDepartment, createRegions, creditCode, mount } from '../support/builders';
import type { TestServer } from '../support/test-server';

/**
 * Property-based fuzzing of the whole GraphQL API, driven by the built
 * schema itself: every root query and every mutation gets arguments
 * generated from their types (valid-looking values taken from the seeded
 * data, boundaries, and hostile values), and is sent over real HTTP to the
 * real server as an admin, a steward or a viewer. Properties of every
 * answer: no HTTP 5xx, no INTERNAL_SERVER_ERROR, no SQL, stack or file path
 * text; and a refused mutation changes nothing in the database.
 */

/** Values that exist in the seeded database, so that generated arguments also reach the services' deeper rules. */
export interface Known {
  regionCodes: string[];
  creditCodes: string[];
  directoryCodes: string[];
  ids: string[];
}

const PROVINCE = '410000';
const CITY = '410500';
const DISTRICT = '410505';

/** Seeds a small tree (a province, a city, a district, two departments, directories, a mount) and collects its codes and IDs. */
export async function seed(api: TestServer): Promise<Known> {
  await createRegions(api, [
    { code: PROVINCE, name: '河南省' },
    { code: CITY, name: '安阳市' },
    { code: DISTRICT, name: '殷都区' },
  ]);
  const departments = [creditCode(DISTRICT, 1), creditCode(DISTRICT, 2)];
  await createDepartment(api, { creditCode: departments[0], name: '殷都区民政局', regionCode: DISTRICT });
  await createDepartment(api, { creditCode: departments[1], name: '殷都区教育局', regionCode: DISTRICT });
  await addDirectory(api, departments[0], 'MZ-001');
  await addDirectory(api, departments[0], 'MZ-002', { publish: false });
  await addDirectory(api, departments[1], 'JY-001', { shareType: 'CONDITIONAL' });
  await mount(api, 'MZ-001', 1200);
  const data = await api.ok<{
    region: { id: string; departments: { edges: { node: { id: string } }[] } };
    directories: { edges: { node: { id: string; mounts: { id: string }[] } }[] };
  }>(`{ region(code: "${DISTRICT}") { id departments(first: 10) { edges { node { id } } } } directories(first: 10) { edges { node { id mounts { id } } } } }`);
  const ids = [
    data.region.id,
    ...data.region.departments.edges.map((e) => e.node.id),
    ...data.directories.edges.flatMap((e) => [e.node.id, ...e.node.mounts.map((m) => m.id)]),
  ];
  return { regionCodes: [PROVINCE, CITY, DISTRICT], creditCodes: departments, directoryCodes: ['MZ-001', 'MZ-002', 'JY-001'], ids };
}

const ONE_MB = 1024 * 1024;

/** Strings a hostile caller would try. None contains text the leak check looks for (paths, SQL clauses), so an echo is not a leak. */
const HOSTILE_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\u0001\u0002\u0003\u0007\u0008\u000b\u000c\u000e\u001f\u007f',
  '\u0085\u2028\u2029',
  '\r\n\t',
  'e\u0301'.repeat(1000),
  '\u0301\u0302\u0303',
  '\u202e\u202d',
  '\ud800',
  '\udfff',
  '😀'.repeat(100),
  '\ufeff',
  "' OR '1'='1",
  "'; DROP TABLE directory; --",
  '\\',
  '%00',
  '${7*7}',
  '<script>alert(1)</script>',
  '../../../../etc/passwd',
  '资'.repeat(10_000),
  '9'.repeat(400),
  '-1',
  'null',
  'NaN',
  'x'.repeat(ONE_MB),
];

const hostileString = fc.constantFrom(...HOSTILE_STRINGS);

const INT_BOUNDS = [0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, 2 ** 53 - 1, -(2 ** 53), 2 ** 53 + 2, 1e21, 1.5];
const DATES = [
  '2023-06-30T00:00:00.000Z',
  '2023-06-30',
  '0001-01-01T00:00:00Z',
  '9999-12-31T23:59:59Z',
  '2023-02-30',
  '2023-13-01',
  '1970-01-01T00:00:00Z',
  'tomorrow',
  '',
  '+275760-09-13T00:00:00.000Z',
];

/** Valid-looking strings for an argument or input field, by its name: codes that exist, so that requests get past the first checks. */
function validStrings(fieldName: string, known: Known): fc.Arbitrary<string> {
  const name = fieldName.toLowerCase();
  if (name.includes('credit') || name === 'department') return fc.constantFrom(...known.creditCodes);
  if (name.includes('region') || name === 'parentcode') return fc.constantFrom(...known.regionCodes);
  if (name === 'code' || name.includes('directory')) return fc.constantFrom(...known.directoryCodes, `NEW-${Math.floor(Math.random() * 1e6)}`, 'ZZ-001');
  if (name.includes('locator') || name.includes('url')) return fc.constantFrom('ods.t_minzheng', 'https://data.example.gov.cn/api/v1');
  if (name.includes('period') || name.includes('month')) return fc.constantFrom('2023-06', '2023-13', '0000-00', '2023-06-01');
  return fc.constantFrom(...known.creditCodes, ...known.directoryCodes, '低保对象信息', '仅用于社会救助审核', '字符型', 'A name');
}

function scalarArbitrary(name: string, known: Known, fieldName = ''): fc.Arbitrary<unknown> {
  const anyString = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 20 }));
  switch (name) {
    case 'String': {
      const valid = validStrings(fieldName, known);
      // A valid value with one hostile character in it: what reaches the database when the rest of the request is right.
      const spoiled = fc
        .tuple(valid, fc.constantFrom('\u0000', '\u0007', '\u001b', '\u0301', '\ud800', '\u202e', "'", '\\'), fc.boolean())
        .map(([v, c, end]) => (end ? `${v}${c}` : `${c}${v}`));
      return fc.oneof(
        { weight: 6, arbitrary: valid },
        { weight: 2, arbitrary: spoiled },
        { weight: 2, arbitrary: hostileString },
        { weight: 1, arbitrary: anyString },
      );
    }
    case 'ID':
      if (fieldName.toLowerCase().includes('code')) return scalarArbitrary('String', known, fieldName);
      return fc.oneof(
        { weight: 3, arbitrary: fc.constantFrom(...known.ids) },
        { weight: 1, arbitrary: hostileString },
        { weight: 1, arbitrary: fc.base64String({ maxLength: 40 }) },
        { weight: 1, arbitrary: fc.constantFrom('RGlyZWN0b3J5Oi0x', 'UmVnaW9uOjk5OTk5OTk5OTk5OQ==', 'Tm9wZTox') },
      );
    case 'Int':
    case 'SafeInt':
      return fc.oneof(fc.integer({ min: -1000, max: 100_000 }), fc.constantFrom(...INT_BOUNDS), fc.constantFrom('12', null));
    case 'Float':
      return fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(1e308, -1e308, 0, -0));
    case 'Boolean':
      return fc.oneof({ weight: 4, arbitrary: fc.boolean() }, { weight: 1, arbitrary: fc.constantFrom('true', 1, null) });
    case 'DateTimeISO':
    case 'LocalDate':
      return fc.oneof(
        fc.constantFrom(...DATES),
        fc.date({ min: new Date('1900-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString()),
        hostileString,
      );
    case 'JSONObject':
      return fc.oneof(fc.object({ maxDepth: 3 }), fc.constantFrom({}, [], 'x', { a: '\u0000' }));
    default:
      return fc.oneof(anyString, hostileString, fc.integer());
  }
}

/** Arrays nested `depth` deep: what a JSON body nested thousands of levels looks like once parsed. */
const deeplyNested = (depth: number) => {
  let value: unknown = 'x';
  for (let i = 0; i < depth; i++) value = [value];
  return value;
};

/** Values of a GraphQL input type: mostly well-formed, sometimes null where it must not be, wrong-typed, or absurdly deep. */
export function valueArbitrary(type: GraphQLInputType, known: Known, depth = 0, fieldName = ''): fc.Arbitrary<unknown> {
  if (isNonNullType(type)) {
    const inner = valueArbitrary(type.ofType, known, depth, fieldName);
    return fc.oneof({ weight: 25, arbitrary: inner }, { weight: 1, arbitrary: fc.constant(null) });
  }
  const hostile = fc.oneof(fc.constant(null), fc.constant(deeplyNested(1000)), hostileString, fc.integer());
  if (isListType(type)) {
    const item = valueArbitrary(type.ofType, known, depth + 1, fieldName);
    return fc.oneof(
      { weight: 20, arbitrary: fc.array(item, { maxLength: depth > 2 ? 1 : 4 }) },
      { weight: 1, arbitrary: fc.array(item, { minLength: 200, maxLength: 300 }) },
      { weight: 1, arbitrary: hostile },
    );
  }
  if (isEnumType(type)) {
    return fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...type.getValues().map((v) => v.name)) }, { weight: 1, arbitrary: hostileString });
  }
  if (isScalarType(type)) return scalarArbitrary(type.name, known, fieldName);
  if (isInputObjectType(type)) {
    if (depth > 4) return fc.constant(null);
    const fields = Object.values(type.getFields());
    const shape: Record<string, fc.Arbitrary<unknown>> = {};
    for (const field of fields) shape[field.name] = valueArbitrary(field.type, known, depth + 1, field.name);
    const required = fields.filter((f) => isNonNullType(f.type) && f.defaultValue === undefined).map((f) => f.name);
    const object = fc.record(shape, { requiredKeys: required });
    const withExtra = object.map((o) => ({ ...o, notAField: 'x' }));
    return fc.oneof({ weight: 30, arbitrary: object }, { weight: 1, arbitrary: withExtra }, { weight: 1, arbitrary: hostile });
  }
  return fc.constant(null);
}

/** A selection of the leaf fields of a result type (and of objects below it without required arguments), two levels deep. */
function selection(type: GraphQLOutputType, depth = 0): string {
  const named = getNamedType(type);
  if (isLeafType(named)) return '';
  if (!isObjectType(named) || depth > 1) return '{ __typename }';
  const parts = ['__typename'];
  for (const field of Object.values(named.getFields())) {
    if (field.args.some((a) => isNonNullType(a.type) && a.defaultValue === undefined)) continue;
    const inner = getNamedType(field.type);
    if (isLeafType(inner)) parts.push(field.name);
    else if (depth < 1 && isObjectType(inner)) parts.push(`${field.name} ${selection(field.type, depth + 1)}`);
  }
  return `{ ${parts.join(' ')} }`;
}

/** One request: which root field, as whom, with which arguments and how many aliases. */
export interface FuzzCase {
  operation: 'query' | 'mutation';
  field: string;
  role: 'ADMIN' | 'STEWARD' | 'VIEWER';
  args: Record<string, unknown>;
  aliases: number;
}

export interface Roots {
  schema: GraphQLSchema;
  queries: GraphQLField<unknown, unknown>[];
  mutations: GraphQLField<unknown, unknown>[];
}

export async function roots(): Promise<Roots> {
  const schema = await buildMuluSchema();
  return { schema, queries: Object.values(schema.getQueryType()!.getFields()), mutations: Object.values(schema.getMutationType()!.getFields()) };
}

/** Cases over every root field of both kinds; each field is equally likely. */
export function caseArbitrary(fields: Roots, known: Known): fc.Arbitrary<FuzzCase> {
  const one = (operation: 'query' | 'mutation', field: GraphQLField<unknown, unknown>) => {
    const shape: Record<string, fc.Arbitrary<unknown>> = {};
    for (const arg of field.args) shape[arg.name] = valueArbitrary(arg.type, known, 0, arg.name);
    const required = field.args.filter((a) => isNonNullType(a.type) && a.defaultValue === undefined).map((a) => a.name);
    return fc.record({
      operation: fc.constant(operation),
      field: fc.constant(field.name),
      role:
        operation === 'mutation'
          ? fc.oneof({ weight: 4, arbitrary: fc.constantFrom('ADMIN' as const, 'STEWARD' as const) }, { weight: 1, arbitrary: fc.constant('VIEWER' as const) })
          : fc.constantFrom('ADMIN' as const, 'STEWARD' as const, 'VIEWER' as const),
      args: fc.record(shape, { requiredKeys: required }),
      aliases:
        operation === 'query' ? fc.oneof({ weight: 5, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.integer({ min: 2, max: 50 }) }) : fc.constant(1),
    });
  };
  return fc.oneof(...fields.queries.map((f) => one('query', f)), ...fields.mutations.map((f) => one('mutation', f)));
}

/** The GraphQL document and variables of a case. */
export function documentOf(fields: Roots, fuzzCase: FuzzCase): { query: string; variables: Record<string, unknown> } {
  const field = (fuzzCase.operation === 'query' ? fields.queries : fields.mutations).find((f) => f.name === fuzzCase.field)!;
  const used = field.args.filter((a) => a.name in fuzzCase.args);
  const definitions = used.map((a) => `$${a.name}: ${String(a.type)}`).join(', ');
  const call = used.length ? `(${used.map((a) => `${a.name}: $${a.name}`).join(', ')})` : '';
  const body = Array.from({ length: fuzzCase.aliases }, (_, i) => `a${i}: ${field.name}${call} ${selection(field.type)}`).join(' ');
  return { query: `${fuzzCase.operation} Fuzz${definitions ? `(${definitions})` : ''} { ${body} }`, variables: fuzzCase.args };
}

/** Text that only the server's internals could have put into an answer. */
const LEAKS: [string, RegExp][] = [
  ['stack frame', /\bat (?:async )?[\w$.<>]+ \(|\n\s+at /],
  ['file path', /\/(?:work|home|root|usr|tmp|opt|var)\/[\w.-]|node_modules|\.(?:ts|js|mjs):\d+/],
  ['SQL', /\b(?:select|insert into|update|delete from)\b[^"\n]{0,200}\b(?:from|where|values|set)\b\s+["\w]/i],
  [
    'PostgreSQL error',
    /violates (?:not-null|foreign key|unique|check) constraint|duplicate key value|relation "|column "[^"]*" (?:of|does not)|syntax error at or near|invalid input syntax for|invalid byte sequence|SQLSTATE|\b22P05\b|\b(?:23502|23503|23505|22001|22003)\b/i,
  ],
  ['JavaScript error', /\b(?:TypeError|RangeError|ReferenceError|SyntaxError): |Cannot read propert|is not a function|Maximum call stack/],
];

/** Every string inside a value, to take echoes of the input out of an answer before looking for leaks. */
function stringsIn(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) stringsIn(v, out);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) stringsIn(v, out);
  return out;
}

export function leaksIn(text: string, args: unknown): string | null {
  let answer = text;
  for (const sent of stringsIn(args)
    .filter((s) => s.length >= 3)
    .sort((a, b) => b.length - a.length)) {
    answer = answer.split(sent).join('').split(JSON.stringify(sent).slice(1, -1)).join('');
  }
  for (const [what, pattern] of LEAKS) {
    const match = pattern.exec(answer);
    if (match) return `${what}: ${JSON.stringify(answer.slice(Math.max(0, match.index - 80), match.index + 120))}`;
  }
  return null;
}

/** Row counts and a digest of every table's contents: equal before and after a refused mutation. */
export async function databaseState(api: TestServer): Promise<string> {
  const connection = api.orm.em.getConnection();
  const tables = (
    await connection.execute<{ name: string }[]>(
      `select table_name as name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE' and table_name <> 'mikro_orm_migrations' order by 1`,
    )
  ).map((t) => t.name);
  const parts = tables.map(
    (t) => `select '${t}' as name, count(*)::text as rows, coalesce(md5(string_agg(x::text, '|' order by x::text)), '') as digest from "${t}" x`,
  );
  const rows = await connection.execute<{ name: string; rows: string; digest: string }[]>(parts.join(' union all '));
  // In table order: `union all` promises none (a parallel append returns its parts as they finish).
  return rows
    .map((r) => `${r.name}:${r.rows}:${r.digest}`)
    .sort()
    .join('\n');
}

export interface Outcome {
  status: number;
  text: string;
  /** The mutation's fields all came back null with errors: it was refused. */
  refused: boolean;
}

/** Sends a case over HTTP as its role. */
export async function send(url: string, tokens: Record<FuzzCase['role'], string>, fields: Roots, fuzzCase: FuzzCase): Promise<Outcome> {
  const { query, variables } = documentOf(fields, fuzzCase);
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[fuzzCase.role]}` },
    body: JSON.stringify({ query, variables }),
  });
  const text = await response.text();
  let refused = false;
  try {
    const body = JSON.parse(text) as { data?: Record<string, unknown> | null; errors?: unknown[] };
    refused = Boolean(body.errors?.length) && (!body.data || Object.values(body.data).every((v) => v === null));
  } catch {
    refused = true;
  }
  return { status: response.status, text, refused };
}

/** What one case broke, or null. */
export async function check(api: TestServer, tokens: Record<FuzzCase['role'], string>, fields: Roots, fuzzCase: FuzzCase): Promise<string | null> {
  const before = fuzzCase.operation === 'mutation' ? await databaseState(api) : undefined;
  const outcome = await send(api.server.url, tokens, fields, fuzzCase);
  if (outcome.status >= 500) return `HTTP ${outcome.status}: ${outcome.text.slice(0, 500)}`;
  if (outcome.text.includes('INTERNAL_SERVER_ERROR')) return `INTERNAL_SERVER_ERROR: ${outcome.text.slice(0, 500)}`;
  const leak = leaksIn(outcome.text, fuzzCase.args);
  if (leak) return `leak (${leak})`;
  if (before !== undefined && outcome.refused) {
    const after = await databaseState(api);
    if (after !== before) {
      // Which tables, so that a replay starts from the right place.
      const beforeLines = new Set(before.split('\n'));
      const changed = after
        .split('\n')
        .filter((line) => !beforeLines.has(line))
        .map((line) => line.split(':').slice(0, 2).join(': ') + ' rows');
      return `a refused mutation changed the database (${changed.join(', ')}): ${outcome.text.slice(0, 300)}`;
    }
  }
  return null;
}

/** Tokens of the three roles (the steward's department is one of the seeded ones). */
export async function roleTokens(api: TestServer, known: Known): Promise<Record<FuzzCase['role'], string>> {
  return {
    ADMIN: api.adminToken,
    STEWARD: await api.signToken({ role: 'STEWARD', department: known.creditCodes[0], sub: 'fuzz-steward', name: 'Fuzz steward' }, { expiresIn: '12h' }),
    VIEWER: await api.signToken({ role: 'VIEWER', sub: 'fuzz-viewer', name: 'Fuzz viewer' }, { expiresIn: '12h' }),
  };
}

/** Describes a case for a failure report, without megabytes of argument. */
export function describeCase(fuzzCase: FuzzCase): string {
  return safeStringify(fuzzCase);
}

function safeStringify(fuzzCase: FuzzCase): string {
  try {
    return describeShallow(fuzzCase);
  } catch {
    return `${fuzzCase.operation} ${fuzzCase.field} as ${fuzzCase.role} (arguments nested too deep to print)`;
  }
}

function describeShallow(fuzzCase: FuzzCase): string {
  return JSON.stringify(fuzzCase, (_key, value: unknown) =>
    typeof value === 'string' && value.length > 200 ? `${value.slice(0, 60)}…(${value.length} chars)` : value,
  ).slice(0, 2000);
}
