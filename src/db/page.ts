/** A page of rows in id order, as services return it. */
export interface Page<T> {
  items: T[];
  hasNextPage: boolean;
}

/** Keyset page request: `first` rows with id greater than `afterId`. */
export interface PageRequest {
  first: number;
  afterId: number;
}

/** Splits off the extra row fetched to learn whether a next page exists. */
export function toPage<T>(rows: T[], first: number): Page<T> {
  return { items: rows.slice(0, first), hasNextPage: rows.length > first };
}
