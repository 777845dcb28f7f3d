import type { TestServer } from './test-server';

/** The server's base URL (without /graphql), for its plain HTTP routes. */
export const baseUrl = (api: TestServer) => api.server.url.replace(/\/graphql$/, '');

/** GET or POST a plain HTTP route with an optional bearer token. */
export async function http(
  api: TestServer,
  path: string,
  options: { token?: string | null; method?: string; body?: Buffer | string; contentType?: string; headers?: Record<string, string> } = {},
) {
  const headers: Record<string, string> = {};
  const token = options.token === undefined ? api.adminToken : options.token;
  if (token) headers.authorization = `Bearer ${token}`;
  if (options.contentType) headers['content-type'] = options.contentType;
  Object.assign(headers, options.headers);
  const response = await fetch(`${baseUrl(api)}${path}`, { method: options.method ?? 'GET', headers, body: options.body });
  const body = Buffer.from(await response.arrayBuffer());
  return {
    status: response.status,
    headers: response.headers,
    body,
    json: () => JSON.parse(body.toString('utf8')),
  };
}
