// A PostgreSQL server of one test file's own, run as a child process (see
// own-cluster.ts). For tests of what any commit on the server changes, such
// as the database snapshot the response cache compares: other test files'
// writes on the shared server would change it at random moments. Autovacuum
// is off for the same reason, and WAL is minimal: with a standby-ready WAL,
// PostgreSQL gives a transaction that only takes an ACCESS EXCLUSIVE lock a
// transaction id (to log the lock), so a test holding a lock would change
// the snapshot too. Prints {"url": ...} once ready; stops on SIGTERM or when
// its parent closes stdin.
import { startCluster } from './embedded-cluster.mjs';

const cluster = await startCluster(['autovacuum=off', 'wal_level=minimal', 'max_wal_senders=0']);
const client = cluster.pg.getPgClient('postgres', '127.0.0.1');
await client.connect();
await client.query('create database mulu');
await client.end();

let stopping;
const stop = () => (stopping ??= cluster.stop().then(() => process.exit(0)));
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.resume();
process.stdout.write(JSON.stringify({ url: cluster.adminUrl.replace(/\/postgres$/, '/mulu') }) + '\n');
