import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { buildSchema } from 'graphql';
import { HTTP_STATUS } from '../src/core/errors';

/**
 * What a newcomer reads in the README and docs/ and can check against the
 * code without running it: every link reaches a file and a heading that
 * exist; the README names every variable the configuration reads; the error
 * table lists every code with its HTTP status; the module layers are the
 * checked ones; the README's mutations exist; the source layout names every
 * folder of src/ and src/modules/ (a newcomer finds a feature from the folder
 * names). Each went stale before. The requests the docs show are sent in
 * readme.test.ts.
 */
const root = join(__dirname, '..');
const documents = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];
const read = (path: string) => readFileSync(join(root, path), 'utf8');
/** The text outside fenced code blocks, where a link is a link. */
const prose = (text: string) => text.replace(/```[\s\S]*?```/g, '');

/** GitHub's anchors of a Markdown file's headings: lower case, punctuation dropped, spaces made hyphens, repeats numbered. */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const [, heading] of prose(text).matchAll(/^#{1,6} (.*)$/gm)) {
    const slug = heading
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const count = seen.get(slug);
    seen.set(slug, (count ?? -1) + 1);
    out.add(count === undefined ? slug : `${slug}-${count + 1}`);
  }
  return out;
}

describe('docs: links and the source layout', () => {
  it('every relative link of the README and docs/ reaches a file, and a heading of it when it names one', () => {
    const broken: string[] = [];
    for (const document of documents) {
      for (const [, link] of prose(read(document)).matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(link)) continue;
        const [path, anchor] = link.split('#');
        const target = path ? normalize(join(dirname(document), path)) : document;
        if (!existsSync(join(root, target))) broken.push(`${document}: ${link} (no file ${target})`);
        else if (anchor && target.endsWith('.md') && !anchors(read(target)).has(anchor))
          broken.push(`${document}: ${link} (no heading #${anchor} in ${target})`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('finds the headings GitHub makes anchors of, Chinese and punctuation included', () => {
    expect(anchors('## Usage (资源使用 / 被使用)\n## Limits\n## Limits\n```\n## not a heading\n```')).toEqual(
      new Set(['usage-资源使用--被使用', 'limits', 'limits-1']),
    );
  });

  it('the README names every variable src/config.ts reads, itself or by its prefix (`MULU_JWT_*`)', () => {
    const variables = new Set(read('src/config.ts').match(/\b(?:MULU_[A-Z0-9_]+|DATABASE_URL|PORT|HOST)\b/g));
    const readme = read('README.md');
    const prefixes = [...readme.matchAll(/`([A-Z_]+)\*`/g)].map((m) => m[1]);
    expect(prefixes).toContain('MULU_JWT_');
    const unnamed = [...variables].filter((name) => !readme.includes(`\`${name}\``) && !prefixes.some((prefix) => name.startsWith(prefix)));
    expect(unnamed).toEqual([]);
  });

  it("the README's write path names mutations of schema/schema.graphql, each taking one `input`", () => {
    const mutations = buildSchema(read('schema/schema.graphql')).getMutationType()!.getFields();
    const paragraph = /A steward's write path:([\s\S]*?)\n\n/.exec(read('README.md'))![1];
    const named = [...paragraph.matchAll(/`([a-z][A-Za-z]+)`/g)].map((m) => m[1]).filter((name) => name !== 'input');
    expect(named.length).toBeGreaterThanOrEqual(9);
    expect(named.filter((name) => !mutations[name])).toEqual([]);
    expect(named.filter((name) => mutations[name].args.map((arg) => arg.name).join() !== 'input')).toEqual([]);
  });

  it('docs/security.md lists every error code of HTTP_STATUS with its status, and no other', () => {
    const section = /## Errors and HTTP statuses\n([\s\S]*?)\n## /.exec(read('docs/security.md'))![1];
    const listed: Record<string, number> = {};
    for (const [, codes, status] of section.matchAll(/^\| ([^|]*`[A-Z_]+`[^|]*)\| (\d{3}) +\|/gm)) {
      for (const [, code] of codes.matchAll(/`([A-Z_]+)`/g)) listed[code] = Number(status);
    }
    expect(listed).toEqual({ ...HTTP_STATUS });
  });

  it("docs/unit-of-work.md draws the module layers of .dependency-cruiser.cjs's LAYERS, in order", () => {
    const layers = /const LAYERS = \[([\s\S]*?)\];/
      .exec(read('.dependency-cruiser.cjs'))![1]
      .split('\n')
      .filter((line) => /^\s*\[/.test(line))
      .map((line) => [...line.matchAll(/'([a-z-]+)'/g)].map((m) => m[1]));
    const drawing = /^src\/modules\/ .*\n([\s\S]*?)\n\s+\^/m.exec(read('docs/unit-of-work.md'))![1];
    const drawn = drawing.split('\n').map((line) =>
      line
        .trim()
        .split(/\s{2,}/)[0]
        .split(' | '),
    );
    expect(layers.length).toBeGreaterThan(5);
    expect(drawn).toEqual(layers);
  });

  it('the layout of docs/architecture.md names every folder of src/ and src/modules/', () => {
    const layout = /## Layout\n+```\n([\s\S]*?)```/.exec(read('docs/architecture.md'))![1];
    const folders = (path: string) =>
      readdirSync(join(root, path), { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .map((entry) => `${entry.name}/`);
    const named = (folder: string) => new RegExp(`(^|\\s)${folder}`, 'm').test(layout);
    expect([...folders('src'), ...folders('src/modules')].filter((folder) => !named(folder))).toEqual([]);
  });
});
