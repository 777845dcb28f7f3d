import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { migrationsList } from '../../migrations';

describe('migrations/index.ts', () => {
  it('lists every migration file in the folder, in file-name order', () => {
    const files = readdirSync(join(__dirname, '..', '..', 'migrations'))
      .filter((file) => /^Migration\d+.*\.ts$/.test(file))
      .map((file) => file.replace(/\.ts$/, ''))
      .sort();
    expect(migrationsList.map((migration) => migration.name)).toEqual(files);
  });
});
