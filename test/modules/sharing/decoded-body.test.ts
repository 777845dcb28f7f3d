import { PassThrough } from 'node:stream';
import { gzipSync } from 'node:zlib';
import type { Request } from 'express';
import { decodedBody } from '../../../src/modules/sharing/sharing.routes';

/** A request body as express hands it on: a stream with headers (and IncomingMessage's complete). */
function request(encoding: string): Request {
  return Object.assign(new PassThrough(), { headers: { 'content-encoding': encoding }, complete: false }) as unknown as Request;
}

/** Reads a body to its end, or what ends it; 'hung' when nothing does within `ms`. */
async function outcome(body: NodeJS.ReadableStream, ms = 2000): Promise<string> {
  const read = (async () => {
    let text = '';
    for await (const chunk of body) text += String(chunk);
    return `read ${text}`;
  })().catch((error: Error) => `failed: ${error.message}`);
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('hung'), ms)));
  try {
    return await Promise.race([read, hung]);
  } finally {
    clearTimeout(timer);
  }
}

describe('decodedBody (POST /mounts/{id}/rows with Content-Encoding)', () => {
  it('decodes a gzip body as it arrives', async () => {
    const req = request('GZip');
    const body = decodedBody(req);
    (req as unknown as PassThrough).end(gzipSync('姓名\n张三\n'));
    expect(await outcome(body)).toBe('read 姓名\n张三\n');
  });

  it('ends the decoding of a client gone mid-upload', async () => {
    const req = request('gzip');
    const body = decodedBody(req);
    (req as unknown as PassThrough).write(gzipSync('姓名\n张三\n').subarray(0, 10));
    (req as unknown as PassThrough).destroy();
    expect(await outcome(body)).toMatch(/^failed: The client closed the connection/);
  });

  it('ends the decoding of a client gone before the handler ran (while it was authenticated), not waiting for good', async () => {
    const req = request('gzip');
    (req as unknown as PassThrough).destroy();
    await new Promise((resolve) => setImmediate(resolve)); // its 'close' has been emitted
    expect(await outcome(decodedBody(req))).toMatch(/^failed: The client closed the connection/);
  });
});
