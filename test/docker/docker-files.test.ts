import { existsSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { loadConfig } from '../../src/config';
import { authSettingsFromConfig, createAuthenticator } from '../../src/modules/auth/authenticator';
import { Role } from '../../src/core/viewer';

/**
 * No Docker engine runs on the development machines, so the compose file is
 * checked the way Compose reads it: the API service's environment, with the
 * shell's variables interpolated by Compose's rules, must make a server that
 * someone can call; and the build context must leave local build output out.
 */
const DOCKER_DIR = join(__dirname, '..', '..', 'docker');
const compose = readFileSync(join(DOCKER_DIR, 'compose.yaml'), 'utf8');

/** A YAML scalar as written in this file: plain, "double-quoted" or 'single-quoted' ('' inside stands for '). */
const unquote = (value: string) => /^"(.*)"$/.exec(value)?.[1] ?? /^'(.*)'$/.exec(value)?.[1]?.replace(/''/g, "'") ?? value;

/** `key: value` lines of a block mapping nested under the given path of keys (enough for this file's plain style). */
function mappingAt(text: string, path: string[]): Record<string, string> {
  let lines = text.split('\n');
  for (const key of path) {
    const start = lines.findIndex((line) => line.trim() === `${key}:`);
    if (start < 0) throw new Error(`no "${path.join('.')}" in compose.yaml`);
    const indent = lines[start].search(/\S/);
    const body = lines.slice(start + 1);
    const end = body.findIndex((line) => line.trim() !== '' && !line.trim().startsWith('#') && line.search(/\S/) <= indent);
    lines = end < 0 ? body : body.slice(0, end);
  }
  const indent = Math.min(...lines.filter((line) => line.trim() && !line.trim().startsWith('#')).map((line) => line.search(/\S/)));
  const entries = lines
    .filter((line) => line.search(/\S/) === indent && !line.trim().startsWith('#'))
    .map((line) => /^\s*([A-Za-z_][A-Za-z0-9_.-]*):\s*(.*)$/.exec(line)!)
    .map(([, key, value]) => [key, unquote(value)]);
  return Object.fromEntries(entries);
}

/** Compose's interpolation: ${VAR}, ${VAR:-default}, ${VAR:?error} (unset or empty is an error), $$. */
function interpolate(value: string, shell: Record<string, string | undefined>): string {
  return value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:-|:\?)([^}]*))?\}/g, (whole, name: string, op?: string, arg?: string) => {
    if (whole === '$$') return '$';
    const set = shell[name];
    if (op === ':-') return set || arg!;
    if (op === ':?' && !set) throw new Error(`required variable ${name} is missing a value: ${arg}`);
    return set ?? '';
  });
}

const apiEnvironment = (shell: Record<string, string | undefined>) =>
  Object.fromEntries(Object.entries(mappingAt(compose, ['services', 'api', 'environment'])).map(([key, value]) => [key, interpolate(value, shell)]));

describe('docker/compose.yaml', () => {
  it('gives the API the admin key from the shell, so the stack can be called with it', async () => {
    const key = 'a-long-random-admin-key-0123456789';
    const config = loadConfig(apiEnvironment({ MULU_ADMIN_TOKEN: key }));
    expect(config.databaseUrl).toBe('postgres://mulu:change-me@db:5432/mulu');
    expect(config.auth).toEqual({ jwt: undefined, adminToken: key, anonymousStats: false });
    const authenticator = createAuthenticator(await authSettingsFromConfig(config.auth));
    // The bootstrap key needs no database to check.
    expect(await authenticator.authenticate(`Bearer ${key}`, undefined as never)).toMatchObject({ role: Role.ADMIN });
  });

  it('listens on every interface inside the container, and checks health by readiness', () => {
    expect(loadConfig(apiEnvironment({ MULU_ADMIN_TOKEN: 'a-long-random-admin-key-0123456789' })).host).toBe('0.0.0.0');
    const healthcheck = mappingAt(compose, ['services', 'api', 'healthcheck']);
    expect(healthcheck.test).toContain("fetch('http://127.0.0.1:4000/health/ready')");
    expect(readFileSync(join(DOCKER_DIR, 'Dockerfile'), 'utf8')).toMatch(/^HEALTHCHECK .*\/health\/ready/m);
    // Longer than the shutdown grace (10 s), so requests in flight finish before Compose kills the container.
    expect(mappingAt(compose, ['services', 'api']).stop_grace_period).toBe('20s');
  });

  it('refuses to start without MULU_ADMIN_TOKEN, saying what to set', () => {
    expect(() => apiEnvironment({})).toThrow(/MULU_ADMIN_TOKEN.*at least 16 characters/);
    expect(() => apiEnvironment({ MULU_ADMIN_TOKEN: '' })).toThrow(/MULU_ADMIN_TOKEN/);
  });

  it('passes the identity platform and anonymous-statistics settings through', () => {
    const config = loadConfig(
      apiEnvironment({
        MULU_ADMIN_TOKEN: 'a-long-random-admin-key-0123456789',
        MULU_JWKS_URL: 'https://sso.example.gov.cn/.well-known/jwks.json',
        MULU_JWT_ISSUER: 'https://sso.example.gov.cn',
        MULU_JWT_AUDIENCE: 'mulu-api',
        MULU_ANONYMOUS_STATS: 'true',
      }),
    );
    expect(config.auth.jwt).toEqual({
      jwksUrl: 'https://sso.example.gov.cn/.well-known/jwks.json',
      publicKeyPem: undefined,
      algorithms: ['RS256'],
      issuer: 'https://sso.example.gov.cn',
      audience: 'mulu-api',
    });
    expect(config.auth.anonymousStats).toBe(true);
  });
});

describe('the Docker build context', () => {
  it('leaves node_modules, the embedded database, build output, coverage and benchmark results out', () => {
    const context = resolve(DOCKER_DIR, mappingAt(compose, ['services', 'api', 'build']).context);
    expect(context).toBe(resolve(__dirname, '..', '..'));
    // BuildKit would prefer a Dockerfile-specific ignore file over the context's.
    expect(existsSync(join(DOCKER_DIR, 'Dockerfile.dockerignore'))).toBe(false);
    const patterns = readFileSync(join(context, '.dockerignore'), 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#'))
      .map((line) => line.replace(/^\*\*\//, ''));
    expect(patterns).toEqual(expect.arrayContaining(['node_modules', '.data', 'dist', 'coverage', 'bench-results*']));
    // Nothing the Dockerfile copies is excluded.
    const copied = [...readFileSync(join(DOCKER_DIR, 'Dockerfile'), 'utf8').matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1].split(/\s+/));
    expect([...new Set(copied)]).toEqual(['package.json', 'package-lock.json', 'tsconfig.json', 'src', 'migrations', 'schema']);
    for (const path of copied) expect(patterns).not.toContain(path);
  });
});

describe('the production image', () => {
  it('installs production dependencies only in its runtime stage, and takes nothing else from the build stage but dist', () => {
    const stages = readFileSync(join(DOCKER_DIR, 'Dockerfile'), 'utf8')
      .split(/^FROM /m)
      .slice(1);
    expect(stages).toHaveLength(2);
    const runtime = stages[1];
    expect(runtime).toMatch(/^RUN npm ci --omit=dev\b/m);
    expect([...runtime.matchAll(/^COPY --from=\S+ (?:--chown=\S+ )?(\S+) \S+$/gm)].map((m) => m[1])).toEqual(['/app/dist']);
  });

  /**
   * `npm run build` also builds the dashboard, whose GraphQL types gql.tada
   * generates from the schema file its tsconfig names: without it in the
   * build stage, `docker build` stopped at "Failed to load schema(s)".
   */
  it('copies into its build stage what npm run build reads: the server, its migrations, and the schema the dashboard is typed from', () => {
    const build = readFileSync(join(DOCKER_DIR, 'Dockerfile'), 'utf8').split(/^FROM /m)[1];
    const copied = [...build.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1].split(/\s+/));
    const root = join(__dirname, '..', '..');
    const web = JSON.parse(readFileSync(join(root, 'src', 'web', 'tsconfig.json'), 'utf8')) as { compilerOptions: { plugins: { schema?: string }[] } };
    const schema = relative(root, resolve(root, 'src', 'web', web.compilerOptions.plugins.find((plugin) => plugin.schema)!.schema!));
    expect(schema).toBe(join('schema', 'schema.graphql'));
    const server = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8')) as { include: string[] };
    const read = ['package.json', 'package-lock.json', 'tsconfig.json', ...server.include, schema.split('/')[0]];
    expect(read.filter((path) => !copied.includes(path))).toEqual([]);
  });
});
