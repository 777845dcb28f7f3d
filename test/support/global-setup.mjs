// Starts one embedded PostgreSQL for the whole test run unless DATABASE_URL
// points at a server already.
import { randomBytes } from 'node:crypto';
import { startCluster } from './embedded-cluster.mjs';

export default async function globalSetup() {
  // Names what this run shares between its test files (the demo's template database, test/support/database.ts).
  process.env.MULU_TEST_RUN_ID = randomBytes(4).toString('hex');
  if (process.env.DATABASE_URL) {
    process.env.MULU_TEST_ADMIN_URL = process.env.DATABASE_URL;
    return;
  }
  const cluster = await startCluster(['max_connections=200']);
  globalThis.__MULU_PG__ = cluster;
  // Each test file creates its own database on this server (test/support/database.ts).
  process.env.MULU_TEST_ADMIN_URL = cluster.adminUrl;
}
