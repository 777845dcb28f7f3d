import { Field, Int, ObjectType, type ClassType } from 'type-graphql';
import type DataLoader from 'dataloader';
import { MAX_ROW_ID, type Page, type PageRequest } from '../db/page';
import type { UnitKind } from '../db/unit-lists';
import type { UnitCountKey, UnitListKey } from './loader-factories';
import { badInput, excerpt } from '../core/errors';

/** Cursors are opaque to clients; inside they carry the last row's id. */
export function encodeCursor(id: number): string {
  return Buffer.from(`cursor:${id}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | null | undefined): number {
  if (cursor === null || cursor === undefined) return 0;
  const match = /^cursor:(\d{1,10})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  // Beyond MAX_ROW_ID no cursor was ever handed out, and PostgreSQL would fail the statement on it.
  if (!match || Number(match[1]) > MAX_ROW_ID) throw badInput(`"${excerpt(cursor)}" is not a valid cursor; pass the endCursor of a previous page.`);
  return Number(match[1]);
}

/** Checks page-size limits so one request cannot ask for the whole province. */
export function pageRequest(first: number | null | undefined, after: string | null | undefined, max: number, fallback = Math.min(20, max)): PageRequest {
  const size = first ?? fallback;
  if (!Number.isInteger(size) || size < 1 || size > max) {
    throw badInput(`"first" must be between 1 and ${max}, got ${size}.`);
  }
  return { first: size, afterId: decodeCursor(after) };
}

@ObjectType({ description: 'Where a page starts and ends (Relay PageInfo); pages go forward only, with `first` and `after`.' })
export class PageInfo {
  @Field({ description: 'Whether more items follow this page.' })
  hasNextPage!: boolean;

  @Field({
    description:
      'Whether items come before this page: true when it was asked with `after` (the endCursor of an earlier page), false for a first page. Paging goes forward only (`first` and `after`; there is no `before`).',
  })
  hasPreviousPage!: boolean;

  @Field(() => String, { nullable: true, description: 'Cursor of the first item; null when the page is empty.' })
  startCursor!: string | null;

  @Field(() => String, { nullable: true, description: 'Cursor of the last item; pass it as `after` for the next page. Null when the page is empty.' })
  endCursor!: string | null;
}

export interface Connection<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: PageInfo;
  /**
   * How many items the whole list holds (all pages): a getter, so that it is
   * computed only when a client asks for it.
   */
  readonly totalCount?: Promise<number>;
}

/**
 * Builds `<Name>Connection` and `<Name>Edge` object types for a node type;
 * with `counted`, the connection also has `totalCount`, described by it.
 */
export function ConnectionType<T extends object>(node: ClassType<T>, name: string, what: string, counted?: string) {
  @ObjectType(`${name}Edge`, { description: `One ${what} in a page.` })
  class Edge {
    @Field({ description: 'Cursor of this item.' })
    cursor!: string;

    @Field(() => node, { description: `The ${what}.` })
    node!: T;
  }

  @ObjectType(`${name}Connection`, { description: `A page of ${what}s (Relay connection).` })
  class ConnectionClass implements Connection<T> {
    @Field(() => [Edge], { description: `The ${what}s of this page.` })
    edges!: Edge[];

    @Field(() => PageInfo, { description: 'Paging information.' })
    pageInfo!: PageInfo;
  }
  if (counted) Field(() => Int, { description: counted })(ConnectionClass.prototype, 'totalCount');
  return ConnectionClass;
}

/**
 * Turns a service page, asked with `request`, into a connection. A page asked
 * after a cursor has items before it (the cursor's own, at least), so
 * hasPreviousPage costs no statement.
 */
export function toConnection<T extends { id: number }>(page: Page<T>, request: PageRequest, totalCount?: () => Promise<number>): Connection<T> {
  const edges = page.items.map((item) => ({ cursor: encodeCursor(item.id), node: item }));
  const connection: Connection<T> = {
    edges,
    pageInfo: {
      hasNextPage: page.hasNextPage,
      hasPreviousPage: request.afterId > 0,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
  if (totalCount) Object.defineProperty(connection, 'totalCount', { get: totalCount, enumerable: true });
  return connection;
}

/** Largest page sizes; kept here so limits live in one place. */
export const PAGE_LIMITS = { directories: 100, departments: 500, mounts: 100 } as const;

/**
 * A drill-down list of a department or region as a connection: the page from
 * `list`, and `totalCount` from `count` only when asked for (both loaders,
 * so a list of units costs one statement each, whatever their number).
 */
export async function unitConnection<F, V extends { id: number }>(
  loaders: { list: DataLoader<UnitListKey<F>, Page<V>, string>; count: DataLoader<UnitCountKey<F>, number, string> },
  kind: UnitKind,
  unit: string | number,
  request: PageRequest,
  filter: F,
): Promise<Connection<V>> {
  const key = String(unit);
  const page = await loaders.list.load({ kind, unit: key, page: request, filter });
  return toConnection(page, request, () => loaders.count.load({ kind, unit: key, filter }));
}
