import fc from 'fast-check';
import type { TestServer } from '../support/test-server';
import { caseArbitrary, check, describeCase, roleTokens, roots, seed, type FuzzCase } from './schema-fuzz';

export interface FuzzOptions {
  runs: number;
  /** fast-check's seed; random when absent, and printed either way. */
  seed?: number;
  /** Stop (cleanly) after this long, in milliseconds: a bounded run in `npm test`. */
  timeLimitMs?: number;
  log?: (line: string) => void;
}

export interface FuzzReport {
  seed: number;
  cases: number;
  queries: number;
  mutations: number;
  refused: number;
  failure?: string;
  fieldsCovered: number;
  fieldsTotal: number;
}

/** Runs the schema fuzz against a test server; a failure carries the seed, the case, and how to replay it. */
export async function runFuzz(api: TestServer, options: FuzzOptions): Promise<FuzzReport> {
  const log = options.log ?? (() => undefined);
  const known = await seed(api);
  const tokens = await roleTokens(api, known);
  const fields = await roots();
  const seedValue = options.seed ?? (Date.now() ^ (Math.random() * 0x100000000)) | 0;
  const covered = new Set<string>();
  let queries = 0;
  let mutations = 0;
  const property = fc.asyncProperty(caseArbitrary(fields, known), async (fuzzCase: FuzzCase) => {
    if (fuzzCase.operation === 'query') queries++;
    else mutations++;
    covered.add(`${fuzzCase.operation}.${fuzzCase.field}`);
    const problem = await check(api, tokens, fields, fuzzCase);
    if (problem) throw new Error(`${problem}\n  case: ${describeCase(fuzzCase)}`);
  });
  const result = await fc.check(property, {
    numRuns: options.runs,
    seed: seedValue,
    endOnFailure: true,
    interruptAfterTimeLimit: options.timeLimitMs,
    markInterruptAsFailure: false,
  });
  const report: FuzzReport = {
    seed: seedValue,
    cases: result.numRuns,
    queries,
    mutations,
    refused: 0,
    fieldsCovered: covered.size,
    fieldsTotal: fields.queries.length + fields.mutations.length,
  };
  if (result.failed) {
    const error = result.errorInstance instanceof Error ? result.errorInstance.message : String(result.errorInstance);
    report.failure = `${error}\n  replay: npm run fuzz -- --seed ${seedValue} --runs ${options.runs}`;
  }
  log(
    `fuzz: seed ${seedValue}, ${report.cases} cases (${queries} queries, ${mutations} mutations), ${report.fieldsCovered} of ${report.fieldsTotal} root fields, ${result.failed ? 'FAILED' : '0 internal errors, 0 leaks, 0 refused mutations that changed anything'}${result.interrupted ? ' (stopped at the time limit)' : ''}`,
  );
  return report;
}

/** Runs `runs` cases without stopping, and counts the problems by kind (field and first words): a survey, for `npm run fuzz -- --explore`. */
export async function exploreFuzz(api: TestServer, options: { runs: number; seed: number }): Promise<Map<string, number>> {
  const known = await seed(api);
  const tokens = await roleTokens(api, known);
  const fields = await roots();
  const problems = new Map<string, number>();
  for (const fuzzCase of fc.sample(caseArbitrary(fields, known), { numRuns: options.runs, seed: options.seed })) {
    const problem = await check(api, tokens, fields, fuzzCase);
    if (!problem) continue;
    const key = `${fuzzCase.operation}.${fuzzCase.field}: ${problem.slice(0, 160)} | ${describeCase(fuzzCase).slice(0, 300)}`;
    problems.set(key, (problems.get(key) ?? 0) + 1);
  }
  return problems;
}
