import { print } from '@0no-co/graphql.web';
import type { TadaDocumentNode } from 'gql.tada';

/** Where the token is kept (index.html's inline script reads it too: early-request.ts). */
export const TOKEN_KEY = 'mulu.token';

/** The signed-in caller's token, kept for this browser tab only (session storage). */
export const token = {
  get: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  set: (value: string) => sessionStorage.setItem(TOKEN_KEY, value.trim()),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

/** Sends a typed document to /graphql with the caller's token. */
export async function request<R, V>(document: TadaDocumentNode<R, V>, variables: V): Promise<R> {
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token.get() ?? ''}` },
    body: JSON.stringify({ query: print(document), variables }),
  });
  return answerOf<R>(await response.json());
}

/** The data of a GraphQL answer's JSON body, or its first error thrown as an ApiError. */
export function answerOf<R>(json: unknown): R {
  const body = json as { data?: R; errors?: { message: string; extensions?: { code?: string } }[] };
  if (body.errors?.length) throw new ApiError(body.errors[0].message, body.errors[0].extensions?.code);
  return body.data as R;
}

/** Demo roles the server offers (only the embedded demo does: /demo/tokens answers 404 elsewhere). */
export async function demoRoles(): Promise<{ role: string; label: string; token: string }[]> {
  const response = await fetch('/demo/tokens');
  if (!response.ok) return [];
  return ((await response.json()) as { roles: { role: string; label: string; token: string }[] }).roles;
}

/** Downloads an export with the caller's token (a plain link would send none). */
export async function download(path: string): Promise<void> {
  const response = await fetch(path, { headers: { authorization: `Bearer ${token.get() ?? ''}` } });
  if (!response.ok) throw new ApiError(`${response.status}: ${await response.text()}`, undefined);
  const blob = await response.blob();
  const link = document.createElement('a');
  link.href = URL.createObjectURL(blob);
  link.download = path.split('/').slice(-2).join('-');
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}
