import 'reflect-metadata';
import {
  print,
  getIntrospectionQuery,
  getNamedType,
  getNullableType,
  isCompositeType,
  isListType,
  isObjectType,
  Kind,
  parse,
  type OperationDefinitionNode,
} from 'graphql';
import { buildMuluSchema } from '../../src/graphql/schema';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LIST_BOUNDS, listBounds, queryCost } from '../../src/graphql/query-cost';
import { DepartmentPageQuery, RegionPageQuery, RegionRankingQuery } from '../../src/web/queries';
import { DEFAULT_OPERATION_LIMITS } from '../../src/graphql/limits';
import { cataloguePage, districtRanking, provinceDashboard } from '../bench/scenarios';

const operationOf = (query: string) => {
  const document = parse(query);
  return { document, operation: document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION) as OperationDefinitionNode };
};

describe('query cost', () => {
  it('knows the bound of every list of objects that has no `first`', async () => {
    const schema = await buildMuluSchema();
    const undeclared: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (!isObjectType(type) || type.name.startsWith('__')) continue;
      for (const field of Object.values(type.getFields())) {
        // A `first` with a default pages the list; without one, omitting it asks for the whole list (appendix4).
        if (field.name === 'edges' || field.args.some((arg) => arg.name === 'first' && arg.defaultValue !== undefined)) continue;
        if (isListType(getNullableType(field.type)) && isCompositeType(getNamedType(field.type)) && !LIST_BOUNDS[`${type.name}.${field.name}`])
          undeclared.push(`${type.name}.${field.name}`);
      }
    }
    expect(undeclared).toEqual([]);
  });

  it('counts every field, __typename and aliases included, times pages', async () => {
    const schema = await buildMuluSchema();
    const { document, operation } = operationOf(
      `{ a: __typename b: __typename region(code: "1") { departments(first: 10) { edges { node { __typename name } } } } }`,
    );
    // a, b, region, departments, then 10 x (edges, node, __typename, name)
    expect(queryCost(schema, document, operation, {})).toBe(4 + 10 * 4);
    const { document: withVariable, operation: op2 } = operationOf(`query($n: Int) { directories(first: $n) { edges { node { code } } } }`);
    expect(queryCost(schema, withVariable, op2, { n: 100 })).toBe(1 + 100 * 3);
  });

  it('lets the landing page introspect and every benchmark read run', async () => {
    const schema = await buildMuluSchema();
    const introspection = operationOf(getIntrospectionQuery());
    const introspectionCost = queryCost(schema, introspection.document, introspection.operation, {});
    process.stdout.write(`introspection query cost: ${introspectionCost}\n`);
    expect(introspectionCost).toBeLessThanOrEqual(DEFAULT_OPERATION_LIMITS.maxCost);
    for (const scenario of [provinceDashboard, districtRanking, cataloguePage]) {
      const { document, operation } = operationOf(scenario.query);
      const cost = queryCost(schema, document, operation, scenario.variables);
      expect([scenario.name, cost <= DEFAULT_OPERATION_LIMITS.maxCost]).toEqual([scenario.name, true]);
    }
  });

  it('bounds a list of one item per rate or category by the values of its enum', async () => {
    const schema = await buildMuluSchema();
    const bounds = listBounds(schema);
    expect(bounds['ReportUnit.ranks']).toBe(3);
    expect(bounds['RegionReport.belowThreshold']).toBe(3);
    expect(bounds['SupervisionStats.byCategory']).toBe(4);
  });

  it("lets a province's monthly report of every department and the dashboard's pages run", async () => {
    const schema = await buildMuluSchema();
    // The report example of docs/api.md: every department of the region with figures, change and ranks.
    const reportExample = /```graphql\n[^`]*?(query \{\s*region\(code: "410505"\) \{\s*report\([^`]*?)```/.exec(
      readFileSync(join(__dirname, '../../docs/api.md'), 'utf8'),
    )?.[1];
    expect(reportExample).toContain('departments {');
    const cases: [string, string, Record<string, unknown>][] = [
      ['docs/api.md report', reportExample!, {}],
      ['dashboard region page', print(RegionPageQuery), { code: '410000', period: '2023-06', rows: 100 }],
      ['dashboard department page', print(DepartmentPageQuery), { creditCode: '11410505000000007J' }],
      ['dashboard ranking by a rate', print(RegionRankingQuery), { code: '410000', period: '2023-06', metric: 'SUB_COVERAGE_RATE', rows: 100 }],
    ];
    for (const [name, query, variables] of cases) {
      const { document, operation } = operationOf(query);
      const cost = queryCost(schema, document, operation, variables);
      expect([name, cost <= DEFAULT_OPERATION_LIMITS.maxCost]).toEqual([name, true]);
    }
  });

  it('still refuses reports nested in lists, repeated by aliases, or whole appendices costed as one page', async () => {
    const schema = await buildMuluSchema();
    const unit =
      'code name figures { mount { publishedDirectories mountedDirectories dataVolume mountRatePercent } } change { dataVolume } ranks { metric rank of below }';
    const attacks = [
      // Every child region's report of every department: 40 times the province's.
      `{ region(code: "410000") { children { report { departments { ${unit} } } } } }`,
      // The same report of every department, three times.
      `{ region(code: "410000") { a: report { departments { ${unit} } } b: report { departments { ${unit} } } c: report { departments { ${unit} } } } }`,
      // Without \`first\`, an appendix holds every department (it was costed as a page of 20).
      `{ region(code: "410000") { report { appendix4 { ${unit} } appendix5 { ${unit} } departments { ${unit} } } } }`,
    ];
    for (const query of attacks) {
      const { document, operation } = operationOf(query);
      expect(queryCost(schema, document, operation, {})).toBeGreaterThan(DEFAULT_OPERATION_LIMITS.maxCost);
    }
    // A page asked for beyond what the list can hold costs the list's bound.
    const { document, operation } = operationOf(`{ region(code: "410000") { report { appendix4(first: 1000000000) { code } } } }`);
    expect(queryCost(schema, document, operation, {})).toBe(1 + 1 + 1 + 20_000);
  });
});
