import { contentDisposition } from '../../src/http/rest';
import { createDepartment, createRegions, creditCode, HENAN_ANYANG_YINDU, hostedDataset } from '../support/builders';
import { http } from '../support/http';
import { startTestServer, type TestServer } from '../support/test-server';

/** RFC 6266 with RFC 8187's ext-value: a quoted ASCII name, then the name itself of attr-chars and %XX only. */
const DISPOSITION = /^attachment; filename="([\x20-\x21\x23-\x5b\x5d-\x7e]*)"; filename\*=UTF-8''((?:[A-Za-z0-9!#$&+\-.^_`|~]|%[0-9A-F]{2})*)$/;

/** The two names a client reads from a Content-Disposition, or null when it breaks the grammar. */
function namesIn(header: string | null): { ascii: string; name: string } | null {
  const match = DISPOSITION.exec(header ?? '');
  return match && { ascii: match[1], name: decodeURIComponent(match[2]) };
}

/** What no saved file's name may hold: a folder to reach, a control character, a broken character. */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[/\\\u0000-\u001f\u007f]|\uFFFD/;

describe('a download’s file name', () => {
  it('keeps a plain or Chinese name whole, and makes any name a client could misread safe', () => {
    expect(namesIn(contentDisposition('410505-2023-06-resources.xlsx'))).toEqual({
      ascii: '410505-2023-06-resources.xlsx',
      name: '410505-2023-06-resources.xlsx',
    });
    expect(namesIn(contentDisposition('殷都区 资源目录.csv'))).toEqual({ ascii: '___ ____.csv', name: '殷都区 资源目录.csv' });
    const hostile = [
      'a"b.csv',
      'a\\"; filename=evil.exe.csv',
      "it's (1) *.csv",
      'x\r\nset-cookie: a=b.csv',
      '../../etc/passwd',
      '..\\..\\windows\\win.ini',
      'D/../X.csv',
      'lone \ud800 surrogate.csv',
      'nul\u0000.csv',
      '%2F%2e%2e.csv',
      '名\u0085字\u2028.csv',
    ];
    for (const fileName of hostile) {
      const names = namesIn(contentDisposition(fileName));
      expect({ fileName, names: names && { ascii: UNSAFE.test(names.ascii), name: UNSAFE.test(names.name) } }).toEqual({
        fileName,
        names: { ascii: false, name: false },
      });
    }
    // What is not unsafe is kept: the percent signs are the name's own, not an encoding.
    expect(namesIn(contentDisposition('%2F%2e%2e.csv'))?.name).toBe('%2F%2e%2e.csv');
    expect(namesIn(contentDisposition('D/../X.csv'))?.name).toBe('D_.._X.csv');
  });

  describe('on every download route', () => {
    let api: TestServer;
    const P = creditCode('410505', 1);
    // Directory codes may hold / and . (CODE_PATTERN): the name of its rows' file must not reach another folder.
    const code = 'D/../X';
    beforeAll(async () => {
      api = await startTestServer();
      await createRegions(api, HENAN_ANYANG_YINDU);
      await createDepartment(api, { creditCode: P, name: '殷都区民政局', regionCode: '410505' });
      await hostedDataset(api, P, code, [{ name: '姓名', dataType: '字符型', required: true }], [{ 姓名: '张三' }]);
      await api.ok(`mutation { captureSnapshot(input: { period: "2026-01" }) { period } }`);
    });
    afterAll(() => api.close());

    it('answers one Content-Disposition rule, with a safe name and filename*', async () => {
      const downloads: [string, string][] = [
        ['/reports/410505/2026-01/resources.csv', '410505-2026-01-resources.csv'],
        ['/reports/410505/2026-01/supervision.xlsx', '410505-2026-01-supervision.xlsx'],
        ['/imports/directories/template.csv', 'mulu-directories-template.csv'],
        ['/imports/supervision-items/template.xlsx', 'mulu-supervision-items-template.xlsx'],
        [`/directories/${encodeURIComponent(code)}/rows.csv`, 'D_.._X.csv'],
        [`/directories/${encodeURIComponent(code)}/rows.ndjson`, 'D_.._X.ndjson'],
      ];
      for (const [path, fileName] of downloads) {
        const response = await http(api, path);
        expect({ path, status: response.status, names: namesIn(response.headers.get('content-disposition')) }).toEqual({
          path,
          status: 200,
          names: { ascii: fileName, name: fileName },
        });
      }
    });
  });
});
