import 'reflect-metadata';
import type { MikroORM } from '@mikro-orm/postgresql';
import { initOrm } from '../../src/db/orm';
import { departmentFiguresService } from '../../src/modules/stats/department-figures.service';
import { benchDatabase, connect, existingRows } from './database';
import { generate, type Step, type StepTiming } from './generate';
import { EXTRA_STEPS } from './extra-steps';
import { snapshotSteps } from './generate-snapshots';
import { parseArgs, parseScale, type Scale } from './scales';

/**
 * Fills a database with benchmark data: `npm run bench:seed -- --scale district|city|province [--seed 1] [--reset | --snapshots]`.
 * Runs the migrations first; refuses a database that already holds data unless `--reset`.
 * Last, the compared month and the current one are captured (generate-snapshots.ts).
 */
export async function seedDatabase(url: string, scale: Scale, seed: number, reset: boolean, log: (line: string) => void): Promise<StepTiming[]> {
  const client = await connect(url);
  try {
    const existing = await existingRows(client);
    if (existing > 0 && !reset) {
      throw new Error(`The database already holds data (${existing} regions and departments). Pass --reset to drop everything in it and generate again.`);
    }
    if (reset) {
      log('--reset: dropping the public schema');
      await client.query('drop schema public cascade');
      await client.query('create schema public');
    }
    const start = performance.now();
    const orm = await initOrm(url);
    try {
      log(`  ${'migrations'.padEnd(36)} ${''.padStart(16)}  ${((performance.now() - start) / 1000).toFixed(1).padStart(7)} s`);
      return await generate(client, { scale, seed, log }, [...EXTRA_STEPS, () => [departmentFiguresStep(orm), ...snapshotSteps(orm, scale, seed)]]);
    } finally {
      await orm.close(true);
    }
  } finally {
    await client.end();
  }
}

/**
 * The per-department figures the services keep in the transaction of every
 * change (department_figures, resource_directory.stale_after), rebuilt by the
 * service's own bulk path once everything else is loaded.
 */
function departmentFiguresStep(orm: MikroORM): Step {
  return {
    name: 'department figures',
    async run() {
      await orm.em.fork().transactional((em) => departmentFiguresService.rebuildAll(em));
      const [row] = await orm.em.getConnection().execute(`select count(*)::int as n from department_figures`);
      return row.n;
    },
  };
}

/**
 * `--snapshots`: the snapshot steps alone, on a database generated before
 * they existed (or in an earlier month): captures the compared month and the
 * current one unless the current one is captured already.
 */
export async function captureSnapshots(url: string, scale: Scale, seed: number, log: (line: string) => void): Promise<void> {
  const client = await connect(url);
  try {
    if ((await existingRows(client)) === 0) throw new Error(`The database is empty: run \`npm run bench:seed -- --scale ${scale.name}\` first.`);
    const orm = await initOrm(url);
    try {
      for (const step of snapshotSteps(orm, scale, seed)) {
        const start = performance.now();
        const rows = await step.run(client);
        log(`  ${step.name.padEnd(36)} ${String(rows).padStart(11)} rows  ${((performance.now() - start) / 1000).toFixed(1).padStart(7)} s`);
      }
    } finally {
      await orm.close(true);
    }
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const scale = parseScale(args.get('scale'));
  const seed = Number(args.get('seed') ?? 1);
  const database = await benchDatabase(scale);
  try {
    const start = performance.now();
    if (args.get('snapshots') === 'true') {
      console.log(`Capturing the snapshots of scale ${scale.name} (seed ${seed})`);
      await captureSnapshots(database.url, scale, seed, console.log);
    } else {
      console.log(`Generating scale ${scale.name} (seed ${seed})`);
      await seedDatabase(database.url, scale, seed, args.get('reset') === 'true', console.log);
    }
    console.log(`Done in ${((performance.now() - start) / 1000).toFixed(1)} s.`);
  } finally {
    await database.stop();
  }
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
