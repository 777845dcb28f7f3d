import { startTestServer, type TestServer } from '../support/test-server';
import { runFuzz } from './fuzz';

/**
 * A bounded run of the schema fuzz in every `npm test` (a new seed each
 * time, printed; about a minute at most): every root query and mutation, as
 * admin, steward and viewer, with valid-looking, boundary and hostile
 * arguments. Long runs: `npm run fuzz -- --runs 20000`; replay a failure
 * with the `--seed` it prints. MULU_FUZZ_RUNS and MULU_FUZZ_SEED set this
 * run's size and seed.
 */
describe('schema fuzz', () => {
  let api: TestServer;

  beforeAll(async () => {
    api = await startTestServer({ figuresRecountIntervalMs: 24 * 60 * 60 * 1000 });
  });
  afterAll(() => api.close());

  it('answers every generated request without a 5xx, an internal error or a leak, and refused mutations change nothing', async () => {
    const report = await runFuzz(api, {
      runs: Number(process.env.MULU_FUZZ_RUNS ?? 400),
      seed: process.env.MULU_FUZZ_SEED ? Number(process.env.MULU_FUZZ_SEED) : undefined,
      timeLimitMs: 60_000,
      log: (line) => process.stdout.write(`${line}\n`),
    });
    expect(report.failure).toBeUndefined();
    expect(report.cases).toBeGreaterThan(0);
  }, 175_000);
});
