import net from 'node:net';

/** What a raw HTTP exchange got back: the status (0 if the server closed without answering), headers, body text. */
export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Body bytes the sender managed to write before the server answered or closed. */
  sent: number;
}

/**
 * A sender that announces `contentLength` bytes and trickles them: `chunk`
 * bytes every `everyMs`, until the server answers or closes the socket (a
 * hostile or very slow client, which fetch cannot imitate).
 */
export function trickle(
  url: string,
  options: { path: string; contentLength: number; headers?: Record<string, string>; chunk?: number; everyMs: number; contentType?: string },
): { answer: Promise<RawAnswer>; socket: net.Socket } {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname === 'localhost' ? '127.0.0.1' : hostname);
  let sent = 0;
  let received = Buffer.alloc(0);
  const head = [
    `POST ${options.path} HTTP/1.1`,
    `host: ${hostname}:${port}`,
    `content-type: ${options.contentType ?? 'application/json'}`,
    `content-length: ${options.contentLength}`,
    ...Object.entries(options.headers ?? {}).map(([name, value]) => `${name}: ${value}`),
    '',
    '',
  ].join('\r\n');
  let timer: NodeJS.Timeout | undefined;
  socket.on('connect', () => {
    socket.write(head);
    timer = setInterval(() => {
      if (socket.destroyed || sent >= options.contentLength) return clearInterval(timer);
      const size = Math.min(options.chunk ?? 1, options.contentLength - sent);
      sent += size;
      socket.write(sent === size ? '{'.padEnd(size, ' ') : ' '.repeat(size));
    }, options.everyMs);
  });
  const answer = new Promise<RawAnswer>((resolve) => {
    const done = () => {
      clearInterval(timer);
      const text = received.toString('utf8');
      const [headText, ...rest] = text.split('\r\n\r\n');
      const match = /^HTTP\/1\.1 (\d{3})/.exec(headText);
      const headers: Record<string, string> = {};
      for (const line of headText.split('\r\n').slice(1)) {
        const colon = line.indexOf(':');
        if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      let body = rest.join('\r\n\r\n');
      // A chunked answer: keep the JSON between the chunk sizes.
      if (headers['transfer-encoding'] === 'chunked')
        body = body
          .replace(/^[0-9a-f]+\r\n/i, '')
          .replace(/\r\n0\r\n\r\n$/, '')
          .replace(/\r\n$/, '');
      resolve({ status: match ? Number(match[1]) : 0, headers, body, sent });
    };
    socket.on('data', (data) => {
      received = Buffer.concat([received, data]);
    });
    socket.on('close', done);
    socket.on('error', () => undefined);
  });
  return { answer, socket };
}
