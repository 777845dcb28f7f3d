import 'reflect-metadata';
import type { MikroORM } from '@mikro-orm/postgresql';
import { Client } from 'pg';
import { randomBytes } from 'node:crypto';
import { initOrm } from '../../src/db/orm';

/** A fresh, migrated database of its own for one test file. */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const adminUrl = process.env.MULU_TEST_ADMIN_URL;
  if (!adminUrl) throw new Error('MULU_TEST_ADMIN_URL is not set: run the tests through jest (globalSetup starts PostgreSQL).');
  const name = `mulu_test_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
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

/** Counts the SQL statements the ORM sends, to hold requests to a query budget. */
export function countStatements(orm: MikroORM): { reset(): void; readonly count: number; readonly statements: string[] } {
  const statements: string[] = [];
  orm.em.getConnection().getKnex().on('query', (query: { sql: string }) => statements.push(query.sql));
  return {
    reset: () => void statements.splice(0),
    get count() {
      return statements.length;
    },
    statements,
  };
}

export async function migratedOrm(url: string): Promise<MikroORM> {
  return initOrm(url);
}
