import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/** The dashboard's build (docs/dashboard.md): src/web to dist/web, every asset bundled, served by Mulu at /. */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  build: {
    outDir: process.env.MULU_WEB_OUT ?? fileURLToPath(new URL('../../dist/web', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    assetsInlineLimit: 0,
  },
});
