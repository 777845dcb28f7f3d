import 'reflect-metadata';
import type { MikroORM } from '@mikro-orm/postgresql';
import { initOrm } from '../../src/db/orm';
import { departmentFiguresService } from '../../src/modules/stats/department-figures.service';
import { benchDatabase, connect, existingRows } from './database';
import { generate, type Step, type StepTiming } from './generate';
import { EXTRA_STEPS } from './extra-steps';
import { parseArgs, parseScale, type Scale } from './scales';

/**
 * Fills a database with benchmark data: `npm run bench:seed -- --scale district|city|province [--seed 1] [--reset]`.
 * Runs the migrations first; refuses a database that already holds data unless `--reset`.
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
      return await generate(client, { scale, seed, log }, [...EXTRA_STEPS, () => [departmentFiguresStep(orm)]]);
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

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const scale = parseScale(args.get('scale'));
  const seed = Number(args.get('seed') ?? 1);
  const database = await benchDatabase(scale);
  try {
    console.log(`Generating scale ${scale.name} (seed ${seed})`);
    const start = performance.now();
    await seedDatabase(database.url, scale, seed, args.get('reset') === 'true', console.log);
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
