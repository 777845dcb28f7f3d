import express from 'express';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** The tokens `npm start` prints on the embedded demo, by role. */
export interface DemoTokens {
  admin: string;
  steward: string;
  viewer: string;
}

/**
 * Where `npm run build` puts the dashboard (vite, src/web): dist/web, seen
 * from the compiled server (dist/src/http) or from the sources (src/http).
 */
export function webDirectory(): string | null {
  return [join(__dirname, '..', '..', 'web'), join(__dirname, '..', '..', 'dist', 'web')].find((dir) => existsSync(join(dir, 'index.html'))) ?? null;
}

/**
 * Sent with every answer of the dashboard: the page holds its caller's token
 * (sessionStorage), so no other site may frame it and steer a signed-in
 * administrator's clicks (X-Frame-Options for older browsers, CSP's
 * frame-ancestors for the rest), no file is read as another type than the
 * one sent, and its address is not handed to the sites it links to.
 */
const DASHBOARD_HEADERS = {
  'x-frame-options': 'DENY',
  'content-security-policy': "frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Mulu</title>
<p>The dashboard is not built: run <code>npm run build</code> (or <code>npm start</code>, which builds it). GraphQL is served at <a href="/graphql">/graphql</a>.</p>`;

/**
 * The dashboard (docs/dashboard.md): its files at `/`, and, on the embedded
 * demo only, the demo tokens at `/demo/tokens` so that its sign-in can offer
 * the demo roles. Anywhere else that path answers 404: a real server never
 * hands out tokens.
 */
export function webRouter(options: { demoTokens?: DemoTokens; directory?: string | null } = {}): express.Router {
  const router = express.Router();
  router.use((_req, res, next) => {
    res.set(DASHBOARD_HEADERS);
    next();
  });
  router.get('/demo/tokens', (_req, res) => {
    if (!options.demoTokens) {
      res.status(404).json({ error: { code: 'NOT_FOUND', message: 'Demo sign-in exists only on the embedded demo (npm start without DATABASE_URL).' } });
      return;
    }
    const t = options.demoTokens;
    res.set('cache-control', 'no-store').json({
      roles: [
        { role: 'ADMIN', label: '平台管理员 (admin)', token: t.admin },
        { role: 'STEWARD', label: '殷都区民政局数据管理员 (steward)', token: t.steward },
        { role: 'VIEWER', label: '访客 (viewer)', token: t.viewer },
      ],
    });
  });
  const directory = options.directory === undefined ? webDirectory() : options.directory;
  if (!directory) {
    router.get('/', (_req, res) => void res.type('html').send(NOT_BUILT));
    return router;
  }
  // File names under assets/ carry a content hash: cache them for good; index.html always afresh.
  router.use('/assets', express.static(join(directory, 'assets'), { immutable: true, maxAge: '365d', index: false, fallthrough: false }));
  router.get(['/', '/index.html'], (_req, res) => {
    res.set('cache-control', 'no-cache').sendFile(join(directory, 'index.html'));
  });
  return router;
}
