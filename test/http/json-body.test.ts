import { jsonNestedDeeperThan, MAX_JSON_DEPTH } from '../../src/http/json-body';

/** The depth check read from a body's bytes before it is parsed (src/http/json-body.ts); over HTTP: test/security/operation-limits.test.ts. */
describe('jsonNestedDeeperThan', () => {
  const deeper = (text: string, max = MAX_JSON_DEPTH) => jsonNestedDeeperThan(Buffer.from(text, 'utf8'), max);
  const nested = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;

  it('agrees with the depth of the parsed value: arrays and objects, at the limit and one past it', () => {
    expect(deeper(nested(MAX_JSON_DEPTH))).toBe(false);
    expect(deeper(nested(MAX_JSON_DEPTH + 1))).toBe(true);
    expect(deeper('{"a":{"b":[1,{"c":[]}]}}', 5)).toBe(false);
    expect(deeper('{"a":{"b":[1,{"c":[]}]}}', 4)).toBe(true);
    // Siblings do not add up: depth is nesting, not count.
    expect(deeper(`[${Array.from({ length: 1000 }, () => '[[]]').join(',')}]`, 3)).toBe(false);
  });

  it('does not count brackets inside strings, escaped quotes and backslashes included', () => {
    expect(deeper(JSON.stringify({ query: '{'.repeat(10_000) }), 1)).toBe(false);
    expect(deeper(JSON.stringify({ q: 'a"[[[[', r: 'b\\', s: '目[{' }), 1)).toBe(false);
    expect(deeper(JSON.stringify({ q: 'b\\', v: [[[]]] }), 3)).toBe(true);
    expect(deeper(JSON.stringify({ q: '\\"[[[', v: [] }), 2)).toBe(false);
    expect(deeper('{"unterminated": "[[[[', 1)).toBe(false);
  });

  it('stops at the first level past the limit of a body nested 100,000 deep', () => {
    const body = Buffer.from(`{"query":"{ __typename }","variables":{"v":${nested(100_000)}}}`);
    const started = performance.now();
    expect(jsonNestedDeeperThan(body, MAX_JSON_DEPTH)).toBe(true);
    expect(performance.now() - started).toBeLessThan(50);
  });
});
