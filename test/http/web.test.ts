import express from 'express';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { webRouter } from '../../src/http/web';

describe('the dashboard', () => {
  const built = mkdtempSync(join(tmpdir(), 'mulu-web-'));
  mkdirSync(join(built, 'assets'));
  writeFileSync(join(built, 'index.html'), '<!doctype html><title>Mulu</title>');
  writeFileSync(join(built, 'assets', 'main-abc123.js'), 'export {};');
  afterAll(() => rmSync(built, { recursive: true, force: true }));

  /** Answers of a server holding only the dashboard's router, built or not. */
  const answersOf = async (directory: string | null, paths: string[]) => {
    const server = express().use(webRouter({ directory })).listen(0);
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      return await Promise.all(paths.map(async (path) => ({ path, response: await fetch(`${base}${path}`) })));
    } finally {
      server.close();
    }
  };

  it('may not be framed by another site, nor its files sniffed as another type, on every answer', async () => {
    const answers = [...(await answersOf(built, ['/', '/index.html', '/assets/main-abc123.js', '/demo/tokens'])), ...(await answersOf(null, ['/']))];
    for (const { path, response } of answers) {
      const headers = Object.fromEntries(
        ['x-frame-options', 'content-security-policy', 'x-content-type-options', 'referrer-policy'].map((name) => [name, response.headers.get(name)]),
      );
      expect({ path, headers }).toEqual({
        path,
        headers: {
          'x-frame-options': 'DENY',
          'content-security-policy': "frame-ancestors 'none'",
          'x-content-type-options': 'nosniff',
          'referrer-policy': 'no-referrer',
        },
      });
    }
    expect(answers.map(({ response }) => response.status)).toEqual([200, 200, 200, 404, 200]);
  });
});
