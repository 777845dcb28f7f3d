import pg from 'pg';

export default async function globalTeardown() {
  // On a server of the caller's (DATABASE_URL), drop the demo template this run may have made.
  if (process.env.DATABASE_URL && process.env.MULU_TEST_RUN_ID) {
    const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await client.connect();
    await client.query(`drop database if exists mulu_demo_${process.env.MULU_TEST_RUN_ID} with (force)`);
    await client.end();
  }
  await globalThis.__MULU_PG__?.stop();
}
