import { print } from '@0no-co/graphql.web';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
import { TOKEN_KEY } from './api';
import { REGION_PAGE_ROWS, sendEarlyRequest } from './early-request';
import { RegionPageQuery } from './queries';
import { href, routeOfHash } from './route';

const EARLY_REQUEST = /<!-- mulu:early-request .*-->/;

/**
 * The region page's request in a script inline in index.html, where its
 * mark is (after the title, before the page's script and style: a script
 * after a style sheet waits for it), early-request.ts: it leaves while the
 * page's JavaScript loads. The text is the functions' own, compiled, with
 * the printed document.
 */
function earlyRequest(): Plugin {
  return {
    name: 'mulu-early-request',
    transformIndexHtml: {
      order: 'pre',
      handler(html) {
        if (!EARLY_REQUEST.test(html)) throw new Error('index.html has no <!-- mulu:early-request --> mark.');
        // JSON with every < escaped: no text of it can close the script element.
        const json = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');
        const args = [json(print(RegionPageQuery)), json(REGION_PAGE_ROWS), json(TOKEN_KEY), String(routeOfHash), String(href)];
        // As a function, the replacement is taken as written (a string would give $ its special meanings).
        return html.replace(EARLY_REQUEST, () => `<script>(${String(sendEarlyRequest)})(${args.join(', ')});</script>`);
      },
    },
  };
}

/** The dashboard's build (docs/dashboard.md): src/web to dist/web, every asset bundled, served by Mulu at /. */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  plugins: [earlyRequest()],
  build: {
    outDir: process.env.MULU_WEB_OUT ?? fileURLToPath(new URL('../../dist/web', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    assetsInlineLimit: 0,
  },
});
