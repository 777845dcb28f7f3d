import ExcelJS from 'exceljs';
import { createDepartment, createRegions, creditCode } from '../../support/builders';
import { http } from '../../support/http';
import { startTestServer, type TestServer } from '../../support/test-server';

const ROWS = 50_000;
const DEPARTMENTS = 10;
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** 10,000 directories of 5 information items each, over 10 departments: 50,000 rows. */
function directoriesCsv(): string {
  const lines = [
    'department_credit_code,code,name,summary,classification,resource_format,share_type,share_conditions,share_method,open_to_public,update_cycle,item_name,item_data_type,item_description',
  ];
  for (let i = 0; i < ROWS / 5; i++) {
    const department = creditCode('410505', (i % DEPARTMENTS) + 1);
    for (let f = 0; f < 5; f++) {
      lines.push(
        f === 0
          ? `${department},DIR-${i},资源目录${i},第${i}个目录,基础信息资源/人口,数据库,有条件共享,仅用于政务服务,接口调用,否,每月,字段${f},字符型,说明${f}`
          : `,DIR-${i},,,,,,,,,,字段${f},字符型,`,
      );
    }
  }
  return lines.join('\n');
}

/** 50,000 sub-items under 5,000 main items, over 10 departments, as XLSX. */
async function supervisionXlsx(): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  const sheet = workbook.addWorksheet('监管事项');
  sheet.addRow(['department_credit_code', 'main_item_code', 'main_item_name', 'legal_basis', 'sub_item_code', 'sub_item_name', 'category']);
  const categories = ['行政检查', '行政处罚', '行政强制', '其他'];
  for (let s = 0; s < ROWS; s++) {
    const main = Math.floor(s / 10);
    const department = creditCode('410505', (main % DEPARTMENTS) + 1);
    sheet.addRow([
      department,
      `M${main}`,
      s % 10 === 0 ? `主项${main}` : '',
      s % 10 === 0 ? '《中华人民共和国行政处罚法》' : '',
      `S${s}`,
      `子项${s}`,
      categories[s % 4],
    ]);
  }
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

/**
 * Acceptance: files of 50,000 rows import whole over HTTP (upload, parse,
 * check, write, commit), and importing the same file again changes nothing.
 * How long each took is printed (the figures of docs/api.md, "Speed"), not
 * asserted: on a loaded machine a time limit fails for reasons that are not
 * the import's.
 */
describe('bulk import at scale', () => {
  let api: TestServer;

  beforeAll(async () => {
    api = await startTestServer();
    await createRegions(api, [
      { code: '410000', name: '河南省' },
      { code: '410500', name: '安阳市' },
      { code: '410505', name: '殷都区' },
    ]);
    for (let d = 1; d <= DEPARTMENTS; d++) await createDepartment(api, { creditCode: creditCode('410505', d), name: `部门${d}`, regionCode: '410505' });
  });
  afterAll(() => api.close());

  const timed = async (path: string, body: Buffer | string, contentType: string) => {
    const started = Date.now();
    const response = await http(api, path, { method: 'POST', body, contentType });
    return { ms: Date.now() - started, status: response.status, report: response.json() };
  };

  it('imports 50,000 directory rows (CSV), and again with nothing to change', async () => {
    const file = directoriesCsv();
    const dry = await timed('/imports/directories?dryRun=true', file, 'text/csv');
    const first = await timed('/imports/directories', file, 'text/csv');
    const second = await timed('/imports/directories', file, 'text/csv');
    console.log(`directories, ${ROWS} rows (${(file.length / 1e6).toFixed(1)} MB CSV): dry run ${dry.ms} ms, import ${first.ms} ms, again ${second.ms} ms`);
    expect(first).toMatchObject({ status: 200, report: { applied: true, rows: ROWS, created: ROWS / 5, errors: [] } });
    expect(second.report).toMatchObject({ applied: true, created: 0, updated: 0, unchanged: ROWS / 5 });
    const stats = await api.ok(
      `{ region(code: "410505") { departments(first: 1) { edges { node { directories(first: 1) { edges { node { informationItems { name } } } } } } } } }`,
    );
    expect(stats.region.departments.edges[0].node.directories.edges[0].node.informationItems).toHaveLength(5);
  }, 240_000);

  it('imports 50,000 sub-item rows (XLSX), and again with nothing to change', async () => {
    const file = await supervisionXlsx();
    const first = await timed('/imports/supervision-items', file, XLSX);
    const second = await timed('/imports/supervision-items', file, XLSX);
    console.log(`supervision items, ${ROWS} rows (${(file.length / 1e6).toFixed(1)} MB XLSX): import ${first.ms} ms, again ${second.ms} ms`);
    expect(first).toMatchObject({ status: 200, report: { applied: true, rows: ROWS, created: ROWS + ROWS / 10, errors: [] } });
    expect(second.report).toMatchObject({ created: 0, updated: 0, unchanged: ROWS + ROWS / 10 });
    const stats = await api.ok(`{ region(code: "410505") { supervisionStats { mainItems subItems } } }`);
    expect(stats.region.supervisionStats).toEqual({ mainItems: ROWS / 10, subItems: ROWS });
  }, 240_000);
});
