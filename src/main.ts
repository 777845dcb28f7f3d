import 'reflect-metadata';
import { startServer } from './app';
import { loadConfig } from './config';
import { loadDemoIfEmpty } from './db/demo-seed';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './db/embedded-postgres';
import { initOrm } from './db/orm';

async function main(): Promise<void> {
  const config = loadConfig();
  let embedded: EmbeddedDatabase | undefined;
  let databaseUrl = config.databaseUrl;
  if (!databaseUrl) {
    console.log(`DATABASE_URL is not set: starting embedded PostgreSQL in ${config.embeddedDataDir}`);
    embedded = await startEmbeddedPostgres(config.embeddedDataDir);
    databaseUrl = embedded.url;
  }
  const orm = await initOrm(databaseUrl, { debug: config.logSql });
  if (config.loadDemo && (await loadDemoIfEmpty(orm))) {
    console.log('Loaded the demo dataset: Henan 410000 > Anyang 410500 > Yindu 410505 and Wenfeng 410502.');
  }
  const server = await startServer(orm, config.port, { maxQueryCost: config.maxQueryCost, sqlCountHeader: config.sqlCountHeader });
  console.log(`Mulu is serving GraphQL at ${server.url}`);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping`);
    await server.stop();
    await orm.close(true);
    await embedded?.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((error) => {
  console.error('Mulu failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
