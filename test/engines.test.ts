import { readFileSync } from 'node:fs';
import { join } from 'node:path';
// semver comes with npm's own dependency tree (many packages use it); it reads engine ranges as npm does.
import semver from 'semver';

/**
 * package.json promises Node 20.19 (engines): every package the lock file
 * installs must accept it, or `npm install` warns (EBADENGINE) and the
 * package may use what Node 20 lacks. Finding 6 of issue 12:
 * @whatwg-node/promise-helpers 2.x (through @apollo/server > @graphql-tools)
 * asks for Node 22.15; package.json overrides it with 1.3.2, which has every
 * function @graphql-tools/utils 12 calls.
 */
describe('engines', () => {
  const root = join(__dirname, '..');
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { engines: { node: string } };
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { engines?: { node?: string } | string[]; dev?: boolean; optional?: boolean }>;
  };

  it('every installed package accepts the oldest Node that package.json accepts', () => {
    const oldest = semver.minVersion(pkg.engines.node)!.version;
    expect(oldest).toBe('20.19.0');
    const refusing = Object.entries(lock.packages)
      .filter(([path, entry]) => path && entry.engines && !Array.isArray(entry.engines) && entry.engines.node)
      .filter(([, entry]) => !semver.satisfies(oldest, (entry.engines as { node: string }).node))
      .map(([path, entry]) => `${path.replace(/^.*node_modules\//, '')} wants node ${(entry.engines as { node: string }).node}`);
    expect(refusing).toEqual([]);
  });
});
