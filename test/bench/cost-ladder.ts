/**
 * Where a computed request's Node CPU goes, by difference: `npx ts-node
 * --swc test/bench/cost-ladder.ts [clients=1] [seconds=5]` starts the
 * built server (`npm run build` first; MULU_WORKERS from W, default 1) on
 * the province benchmark database and asks a ladder of documents, each
 * a step more than the last: `{ __typename }` (the fixed cost of a request
 * through Apollo), the district's row served from the response cache (the
 * path before Apollo), the same row computed (one statement through the
 * loaders), the ranking with a few fields (a second statement and 49
 * entries), the benchmark's full ranking (every statistic of each entry, a
 * 54 KB answer). Prints requests a second and the server's CPU a request
 * for each; ONLY=name,name picks steps; BENCH_SERVER_NODE_ARGS adds flags
 * to the server's Node (`--cpu-prof ...`). A step's cost is its difference from the
 * one above (docs/performance.md, "Session of 2026-12-02"). Run it under
 * `flock /work/coord/bench.lock` on a shared machine.
 */
import { readFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import { benchDatabase } from './database';
import { benchIdentities, startServer, stopServer } from './run';
import { SCALES } from './scales';
import { districtRanking } from './scenarios';
import { processTreeCpuMs } from './peer-postgraphile';

const REGION = 'query R($code: String!) { region(code: $code) { code name } }';

/** The steps, in order; `served` ones are asked without `Cache-Control: no-cache`. */
const STEPS: { name: string; query: string; served?: boolean }[] = [
  { name: 'typename', query: '{ __typename }' },
  { name: 'regionServed', query: REGION, served: true },
  { name: 'region', query: REGION },
  {
    name: 'rankingThin',
    query: `query R($code: String!) { region(code: $code) { code name departmentRanking(metric: SUB_COVERAGE_RATE, first: 500) { rank rate department { name creditCode } } } }`,
  },
  { name: 'ranking', query: districtRanking.query },
];

void (async () => {
  const [clientsArg = '1', secondsArg = '5'] = process.argv.slice(2);
  const clients = Number(clientsArg);
  const seconds = Number(secondsArg);
  const db = await benchDatabase(SCALES.province);
  const ids = await benchIdentities();
  // As the benchmark starts it (run.ts), one worker unless W says otherwise, without the statement counter (an instrument
  // production runs without); BENCH_SERVER_NODE_ARGS adds flags to its Node.
  const { child, url } = await startServer(db.url, ids.env, { MULU_WORKERS: process.env.W ?? '1', MULU_SQL_COUNT_HEADER: '0' });
  const dispatcher = new Agent({ connections: clients });
  const only = process.env.ONLY?.split(',');
  for (const step of STEPS) {
    if (only && !only.includes(step.name)) continue;
    const body = JSON.stringify({ query: step.query, variables: districtRanking.variables });
    const headers: Record<string, string> = { 'content-type': 'application/json', authorization: ids.authorization.read };
    if (!step.served) headers['cache-control'] = 'no-cache';
    const ask = async () => (await request(url, { method: 'POST', headers, body, dispatcher })).body.text();
    const first = await ask();
    if (first.includes('"errors"')) throw new Error(`${step.name} answered errors: ${first.slice(0, 300)}`);
    for (let i = 0; i < 200; i++) await ask();
    const cpu0 = processTreeCpuMs(child.pid!)!;
    const until = Date.now() + seconds * 1000;
    let n = 0;
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (Date.now() < until) {
          await ask();
          n++;
        }
      }),
    );
    const cpu = processTreeCpuMs(child.pid!)! - cpu0;
    const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    console.log(
      `${step.name.padEnd(12)} ${(n / seconds).toFixed(1).padStart(8)} r/s  ${(cpu / n).toFixed(3)} ms CPU a request  ${first.length} bytes  load ${load}`,
    );
  }
  await stopServer(child);
  await dispatcher.close();
  await db.stop();
})();
