// The peer in Mulu's benchmark: PostGraphile 4 with @graphile/pg-aggregates and
// postgraphile-plugin-connection-filter, on the database Mulu reads, in a Node
// process of its own (test/bench/peer-postgraphile.ts starts it). Settings as
// a production deployment would have them: no GraphiQL, no query log, no
// watch, no mutations (the benchmark only reads). No JWT either: Mulu
// verifies one on every read, PostGraphile here verifies none, which only
// helps the peer.
// Environment: DATABASE_URL, PORT, PEER_POOL_SIZE (default 10, Mulu's pool size).
'use strict';
const http = require('node:http');
const { Pool } = require('pg');
const { postgraphile } = require('postgraphile');
const ConnectionFilterPlugin = require('postgraphile-plugin-connection-filter');
const PgAggregatesPlugin = require('@graphile/pg-aggregates').default;

const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.PEER_POOL_SIZE ?? 10) });
// A database restart must not kill the process.
pool.on('error', (error) => process.stderr.write(`[peer pool] ${error.message}\n`));

const middleware = postgraphile(pool, 'public', {
  appendPlugins: [ConnectionFilterPlugin, PgAggregatesPlugin],
  graphileBuildOptions: { connectionFilterRelations: true },
  disableDefaultMutations: true,
  dynamicJson: true,
  setofFunctionsContainNulls: false,
  ignoreRBAC: false,
  legacyRelations: 'omit',
  disableQueryLog: true,
  graphiql: false,
  enhanceGraphiql: false,
  watchPg: false,
  retryOnInitFail: false,
  enableQueryBatching: false,
  showErrorStack: false,
  extendedErrors: [],
});

const server = http.createServer((req, res) => {
  if (req.url === '/health') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
    return;
  }
  middleware(req, res);
});
server.listen(Number(process.env.PORT ?? 5000), '127.0.0.1');

function stop() {
  server.close(() => void pool.end().then(() => process.exit(0)));
  setTimeout(() => process.exit(0), 5000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
