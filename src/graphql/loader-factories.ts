import DataLoader from 'dataloader';
import { toPage, type Page, type PageRequest } from '../db/page';
import type { UnitKind, UnitRow } from '../db/unit-lists';

/**
 * A loader of one row per key: `fetch` runs one statement for the whole batch
 * and results come back in key order, null where a key has no row.
 */
export function rowLoader<K, V>(fetch: (keys: readonly K[]) => Promise<V[]>, keyOf: (row: V) => K): DataLoader<K, V | null> {
  return new DataLoader<K, V | null>(async (keys) => {
    const rows = await fetch(keys);
    const byKey = new Map(rows.map((row) => [keyOf(row), row]));
    return keys.map((key) => byKey.get(key) ?? null);
  });
}

/** A loader of a list per key (children of a parent), one statement per batch. */
export function listLoader<K, V>(fetch: (keys: readonly K[]) => Promise<V[]>, keyOf: (row: V) => K): DataLoader<K, V[]> {
  return new DataLoader<K, V[]>(async (keys) => {
    const rows = await fetch(keys);
    const byKey = new Map<K, V[]>();
    for (const row of rows) {
      const key = keyOf(row);
      const list = byKey.get(key);
      if (list) list.push(row);
      else byKey.set(key, [row]);
    }
    return keys.map((key) => byKey.get(key) ?? []);
  });
}

/** Key of a paged-children loader: which parent, which page, which filter. */
export interface PagedKey<P, F> {
  parent: P;
  page: PageRequest;
  filter: F;
}

/**
 * Pages of children for many parents at once. Keys that ask for the same page
 * and filter (the usual case: a list of parents, each asking its first page)
 * share one statement; `fetch` returns up to `first + 1` rows per parent.
 */
export function pagedChildrenLoader<P, F, V>(
  fetch: (parents: readonly P[], page: PageRequest, filter: F) => Promise<V[]>,
  parentOf: (row: V) => P,
): DataLoader<PagedKey<P, F>, Page<V>, string> {
  return new DataLoader<PagedKey<P, F>, Page<V>, string>(
    async (keys) => {
      const groups = new Map<string, PagedKey<P, F>[]>();
      for (const key of keys) {
        const group = JSON.stringify([key.page, key.filter]);
        const list = groups.get(group);
        if (list) list.push(key);
        else groups.set(group, [key]);
      }
      const results = new Map<PagedKey<P, F>, Page<V>>();
      await Promise.all(
        [...groups.values()].map(async (group) => {
          const { page, filter } = group[0];
          const rows = await fetch(
            group.map((key) => key.parent),
            page,
            filter,
          );
          const byParent = new Map<P, V[]>();
          for (const row of rows) {
            const list = byParent.get(parentOf(row));
            if (list) list.push(row);
            else byParent.set(parentOf(row), [row]);
          }
          for (const key of group) results.set(key, toPage(byParent.get(key.parent) ?? [], page.first));
        }),
      );
      return keys.map((key) => results.get(key)!);
    },
    { cacheKeyFn: (key) => JSON.stringify([key.parent, key.page, key.filter]) },
  );
}

/** Key of a drill-down list: which unit (a department id or a region code, as text), which page, which filter. */
export interface UnitListKey<F> {
  kind: UnitKind;
  unit: string;
  page: PageRequest;
  filter: F;
}

/** Groups keys asking the same kind, page and filter: each group is one statement. */
function groupKeys<K extends { kind: UnitKind; unit: string }>(keys: readonly K[], groupOf: (key: K) => unknown): K[][] {
  const groups = new Map<string, K[]>();
  for (const key of keys) {
    const group = JSON.stringify(groupOf(key));
    const list = groups.get(group);
    if (list) list.push(key);
    else groups.set(group, [key]);
  }
  return [...groups.values()];
}

/**
 * Pages of drill-down lists (src/db/unit-lists.ts) for many units at once:
 * one statement per kind, page and filter, whatever the number of units.
 */
export function unitListLoader<F, V>(
  fetch: (kind: UnitKind, units: readonly string[], page: PageRequest, filter: F) => Promise<UnitRow<V>[]>,
): DataLoader<UnitListKey<F>, Page<V>, string> {
  return new DataLoader<UnitListKey<F>, Page<V>, string>(
    async (keys) => {
      const results = new Map<UnitListKey<F>, Page<V>>();
      await Promise.all(
        groupKeys(keys, (k) => [k.kind, k.page, k.filter]).map(async (group) => {
          const { kind, page, filter } = group[0];
          const byUnit = new Map<string, V[]>();
          for (const row of await fetch(
            kind,
            group.map((k) => k.unit),
            page,
            filter,
          )) {
            const list = byUnit.get(row.unit);
            if (list) list.push(row.item);
            else byUnit.set(row.unit, [row.item]);
          }
          for (const key of group) results.set(key, toPage(byUnit.get(key.unit) ?? [], page.first));
        }),
      );
      return keys.map((key) => results.get(key)!);
    },
    { cacheKeyFn: (key) => JSON.stringify([key.kind, key.unit, key.page, key.filter]) },
  );
}

/** Key of a drill-down count: which unit, which filter. */
export interface UnitCountKey<F> {
  kind: UnitKind;
  unit: string;
  filter: F;
}

/** Total counts of drill-down lists for many units at once: one statement per kind and filter. */
export function unitCountLoader<F>(
  fetch: (kind: UnitKind, units: readonly string[], filter: F) => Promise<Map<string, number>>,
): DataLoader<UnitCountKey<F>, number, string> {
  return new DataLoader<UnitCountKey<F>, number, string>(
    async (keys) => {
      const results = new Map<UnitCountKey<F>, number>();
      await Promise.all(
        groupKeys(keys, (k) => [k.kind, k.filter]).map(async (group) => {
          const counts = await fetch(
            group[0].kind,
            group.map((k) => k.unit),
            group[0].filter,
          );
          for (const key of group) results.set(key, counts.get(key.unit) ?? 0);
        }),
      );
      return keys.map((key) => results.get(key)!);
    },
    { cacheKeyFn: (key) => JSON.stringify([key.kind, key.unit, key.filter]) },
  );
}
