import 'reflect-metadata';
import type { MikroORM } from '@mikro-orm/postgresql';
import { Client } from 'pg';
import { randomBytes } from 'node:crypto';
import { initOrm } from '../../src/db/orm';
import { loadDemoIfEmpty } from '../../src/db/demo-seed';
import type { ConnectionSettings } from '../../src/mikro-orm.config';

/**
 * A fresh, migrated database of its own for one test file; with `demo`, a
 * copy of a database holding the demo dataset (src/db/demo-seed.ts), loaded
 * once per test run into a template database that every such file copies
 * (loading it through the services takes minutes on a busy machine).
 */
export async function createTestDatabase(options: { demo?: boolean } = {}): Promise<{ url: string; drop(): Promise<void> }> {
  const adminUrl = process.env.MULU_TEST_ADMIN_URL;
  if (!adminUrl) throw new Error('MULU_TEST_ADMIN_URL is not set: run the tests through jest (globalSetup starts PostgreSQL).');
  const name = `mulu_test_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    if (options.demo) await admin.query(`create database ${name} template ${await demoTemplate(admin, adminUrl)}`);
    else await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}

function urlOf(adminUrl: string, database: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/** The run's demo template database, made by the first test file that asks (the others wait on a lock). */
async function demoTemplate(admin: Client, adminUrl: string): Promise<string> {
  const template = `mulu_demo_${process.env.MULU_TEST_RUN_ID ?? 'local'}`;
  await admin.query(`select pg_advisory_lock(hashtext($1))`, [template]);
  try {
    const { rowCount } = await admin.query(`select 1 from pg_database where datname = $1`, [template]);
    if (!rowCount) {
      const building = `${template}_building`;
      await admin.query(`drop database if exists ${building} with (force)`);
      await admin.query(`create database ${building}`);
      const orm = await migratedOrm(urlOf(adminUrl, building));
      try {
        await loadDemoIfEmpty(orm);
      } finally {
        await orm.close(true);
      }
      await admin.query(`alter database ${building} rename to ${template}`);
    }
  } finally {
    await admin.query(`select pg_advisory_unlock(hashtext($1))`, [template]);
  }
  return template;
}

/** Counts the SQL statements the ORM sends, to hold requests to a query budget. */
export function countStatements(orm: MikroORM): { reset(): void; readonly count: number; readonly statements: string[] } {
  const statements: string[] = [];
  orm.em
    .getConnection()
    .getKnex()
    .on('query', (query: { sql: string }) => statements.push(query.sql));
  return {
    reset: () => void statements.splice(0),
    get count() {
      return statements.length;
    },
    statements,
  };
}

export async function migratedOrm(url: string, settings: ConnectionSettings = {}): Promise<MikroORM> {
  return initOrm(url, {}, settings);
}
