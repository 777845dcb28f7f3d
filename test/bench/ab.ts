/**
 * A/B of two builds on one database: `npx ts-node --swc test/bench/ab.ts
 * ranking|dashboard|catalogue [rounds=10] [clients=1]` starts a server from
 * each build (AB="dir,workers,dir,workers", default "dist-base,1,dist,1":
 * copy dist/ to dist-base/ before the change, rebuild after), on the
 * benchmark's database (DATABASE_URL, or the embedded province one), and
 * asks each the read computed afresh in alternating 1 s slices, so that the
 * machine's load weighs on both alike; prints requests a second and server
 * CPU a request (the process tree) of each. CLIENT=http uses node:http with
 * a new agent per slice (as the peer benchmark does) instead of undici.
 * Two identical builds measured 0.2 % apart over 30 rounds
 * (docs/performance.md). Run it under `flock /work/coord/bench.lock` on a
 * shared machine.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Agent, request } from 'undici';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { benchDatabase } from './database';
import { benchIdentities } from './run';
import { SCALES } from './scales';
import { cataloguePage, districtRanking, provinceDashboard } from './scenarios';
import { freePort } from '../../src/db/embedded-postgres';
import { processTreeCpuMs } from './peer-postgraphile';

const cpu = (pid: number) => processTreeCpuMs(pid)!;

async function start(dir: string, dbUrl: string, env: Record<string, string>, workers = '1'): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, [resolve(dir, 'src/main.js')], {
    env: {
      ...process.env,
      ...env,
      NODE_ENV: 'production',
      DATABASE_URL: dbUrl,
      PORT: String(port),
      MULU_DEMO: '0',
      MULU_RATE_LIMIT_PER_MINUTE: '0',
      MULU_CALLER_CONCURRENCY: '0',
      MULU_LOG_LEVEL: 'warn',
      MULU_WORKERS: workers,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  for (;;) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/health`)).ok) break;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { child, url: `http://127.0.0.1:${port}/graphql` };
}

void (async () => {
  const [which = 'ranking', roundsArg = '10', clientsArg = '1'] = process.argv.slice(2);
  const scenario = { ranking: districtRanking, dashboard: provinceDashboard, catalogue: cataloguePage }[which];
  if (!scenario) throw new Error(`Unknown read ${which}: ranking, dashboard or catalogue.`);
  const rounds = Number(roundsArg);
  const clients = Number(clientsArg);
  const db = await benchDatabase(SCALES.province);
  const ids = await benchIdentities();
  const [baseDir, baseWorkers, newDir, newWorkers] = (process.env.AB ?? 'dist-base,1,dist,1').split(',');
  const servers = [await start(baseDir, db.url, ids.env, baseWorkers), await start(newDir, db.url, ids.env, newWorkers)];
  const body = JSON.stringify({ query: scenario.query, variables: scenario.variables });
  const headers = { 'content-type': 'application/json', authorization: ids.authorization.read, 'cache-control': 'no-cache' };
  const dispatcher = new Agent({ connections: clients });
  const answers: string[] = [];
  let httpAgent = new HttpAgent({ keepAlive: true, maxSockets: clients });
  const httpHeaders = { ...headers, 'content-length': String(Buffer.byteLength(body)) };
  const ask = async (url: string): Promise<string> => {
    if (process.env.CLIENT === 'http')
      return new Promise((done, fail) => {
        const req = httpRequest(url, { method: 'POST', agent: httpAgent, headers: httpHeaders }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => done(Buffer.concat(chunks).toString('utf8')));
          res.on('error', fail);
        });
        req.on('error', fail);
        req.end(body);
      });
    const r = await request(url, { method: 'POST', headers, body, dispatcher });
    return r.body.text();
  };
  for (const s of servers) for (let i = 0; i < 100; i++) answers.push(await ask(s.url));
  const same = answers[0] === answers[answers.length - 1];
  const totals = servers.map(() => ({ n: 0, cpu: 0 }));
  for (let round = 0; round < rounds; round++) {
    for (const [i, s] of (round % 2 ? [...servers].reverse() : servers).entries()) {
      const k = round % 2 ? servers.length - 1 - i : i;
      const c0 = cpu(s.child.pid!);
      const until = Date.now() + 1000;
      let n = 0;
      await Promise.all(
        Array.from({ length: clients }, async () => {
          while (Date.now() < until) {
            await ask(s.url);
            n++;
          }
        }),
      );
      totals[k].n += n;
      if (process.env.CLIENT === 'http') {
        httpAgent.destroy();
        httpAgent = new HttpAgent({ keepAlive: true, maxSockets: clients });
      }
      totals[k].cpu += cpu(s.child.pid!) - c0;
    }
  }
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log(
    `${which} ${clients} client(s), ${rounds} rounds, answers equal ${same}, load ${load}: ` +
      ['base', 'new'].map((name, i) => `${name} ${(totals[i].n / rounds).toFixed(1)} r/s ${(totals[i].cpu / totals[i].n).toFixed(3)} ms CPU/req`).join(' | '),
  );
  for (const s of servers) s.child.kill('SIGINT');
  await Promise.all(servers.map((s) => new Promise((r) => s.child.once('exit', r))));
  await dispatcher.close();
  await db.stop();
})();
