import { listLoader, pagedChildrenLoader, rowLoader } from '../../src/graphql/loader-factories';

// Real timers throughout: DataLoader dispatches on a later tick.
describe('loader factories', () => {
  it('rowLoader batches keys into one fetch and answers in key order, null for gaps', async () => {
    const calls: number[][] = [];
    const loader = rowLoader(
      async (keys: readonly number[]) => {
        calls.push([...keys]);
        return keys
          .filter((k) => k !== 2)
          .reverse()
          .map((id) => ({ id }));
      },
      (row) => row.id,
    );
    const results = await Promise.all([1, 2, 3].map((k) => loader.load(k)));
    expect(results).toEqual([{ id: 1 }, null, { id: 3 }]);
    expect(calls).toEqual([[1, 2, 3]]);
  });

  it('listLoader groups rows per key, empty lists for keys without rows', async () => {
    const loader = listLoader(
      async () => [
        { p: 'a', v: 1 },
        { p: 'b', v: 2 },
        { p: 'a', v: 3 },
      ],
      (row) => row.p,
    );
    expect(await Promise.all(['a', 'b', 'c'].map((k) => loader.load(k)))).toEqual([
      [
        { p: 'a', v: 1 },
        { p: 'a', v: 3 },
      ],
      [{ p: 'b', v: 2 }],
      [],
    ]);
  });

  it('pagedChildrenLoader runs one fetch per distinct page and filter, and splits off the look-ahead row', async () => {
    const calls: { parents: number[]; first: number; filter: string }[] = [];
    const loader = pagedChildrenLoader(
      async (parents: readonly number[], page, filter: string) => {
        calls.push({ parents: [...parents], first: page.first, filter });
        return parents.flatMap((parent) => Array.from({ length: parent }, (_, i) => ({ parent, id: i + 1 })).slice(0, page.first + 1));
      },
      (row) => row.parent,
    );
    const page = { first: 2, afterId: 0 };
    const [one, three, other] = await Promise.all([
      loader.load({ parent: 1, page, filter: 'x' }),
      loader.load({ parent: 3, page, filter: 'x' }),
      loader.load({ parent: 3, page, filter: 'y' }),
    ]);
    expect(one).toEqual({ items: [{ parent: 1, id: 1 }], hasNextPage: false });
    expect(three).toEqual({
      items: [
        { parent: 3, id: 1 },
        { parent: 3, id: 2 },
      ],
      hasNextPage: true,
    });
    expect(other.items).toHaveLength(2);
    expect(calls).toHaveLength(2);
    expect(calls[0]).toEqual({ parents: [1, 3], first: 2, filter: 'x' });
  });
});
