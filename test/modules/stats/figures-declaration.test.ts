import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MikroORM } from '@mikro-orm/postgresql';
import { figuresMigration } from '../../../src/cli/figures-migration';
import { FIGURE_COLUMNS, FIGURES, propertyOf } from '../../../src/modules/stats/figures';
import { figureValuesSql, unitFiguresOfRow, unitFiguresOfValues } from '../../../src/modules/stats/figures.service';
import { regionRowsByCode } from '../../../src/modules/regions/region.row';
import { createTestDatabase, migratedOrm } from '../../support/database';

const recorded: { column: string; type: 'integer' | 'bigint' }[] = JSON.parse(
  readFileSync(join(__dirname, '..', '..', '..', 'migrations', 'figures.json'), 'utf8'),
);

describe('one declaration per figure (src/modules/stats/figures.ts)', () => {
  let orm: MikroORM;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const database = await createTestDatabase();
    drop = database.drop;
    orm = await migratedOrm(database.url);
  });

  afterAll(async () => {
    await orm?.close();
    await drop?.();
  });

  it('has had its migration generated: migrations/figures.json records every declared figure', () => {
    // A failure here: run `npm run figures:migration` and commit what it wrote.
    expect(figuresMigration(recorded, 'Migration0')).toBeNull();
  });

  it('gives both figures tables exactly the declared columns, of the declared types', async () => {
    const rows: { table_name: string; column_name: string; data_type: string }[] = await orm.em.fork().execute(
      `select table_name, column_name, data_type from information_schema.columns
        where table_name in ('department_figures', 'region_figures') and column_name not in ('department_id', 'region_code')`,
    );
    for (const table of ['department_figures', 'region_figures']) {
      const columns = rows.filter((row) => row.table_name === table);
      expect(columns.map((row) => row.column_name).sort()).toEqual([...FIGURE_COLUMNS].sort());
      for (const figure of FIGURES) expect(columns.find((row) => row.column_name === figure.column)?.data_type).toBe(figure.type);
    }
  });

  it('maps every declared figure on the entities', () => {
    for (const entity of ['DepartmentFigures', 'RegionFigures']) {
      const props = orm.getMetadata().get(entity).properties;
      for (const figure of FIGURES) expect(props[propertyOf(figure.column)]?.fieldNames).toEqual([figure.column]);
    }
  });

  it('sums every declared figure into the regions (the trigger the migrations installed)', async () => {
    const [{ definition }] = await orm.em.fork().execute(`select pg_get_functiondef('region_figures_follow'::regproc) as definition`);
    for (const column of FIGURE_COLUMNS) expect(definition).toContain(`${column} = ${column} + new.${column} - old.${column}`);
  });

  it('reads a region with its figures as one text (figureValuesSql) that gives the same figures as the columns, a volume past 2^53 exact', async () => {
    const em = orm.em.fork();
    await em.execute(
      `insert into region (code, name, level, parent_code) values ('990000', 'Figures', 'PROVINCE', null), ('980000', 'No figures', 'PROVINCE', null)`,
    );
    await em.execute(`delete from region_figures where region_code = '980000'`);
    // Every figure a value of its own, so that a figure read from another's place would show; 2^53 + 1 is what a double cannot hold.
    const values = FIGURES.map((figure, i) => (figure.column === 'data_volume' ? '9007199254740993' : String(i + 1)));
    await em.execute(
      `insert into region_figures (region_code, ${FIGURE_COLUMNS.join(', ')}) values ('990000', ${values.map(() => '?').join(', ')})
       on conflict (region_code) do update set ${FIGURE_COLUMNS.map((c) => `${c} = excluded.${c}`).join(', ')}`,
      values,
    );
    const [columns] = await em.execute(`select * from region_figures where region_code = '990000'`);
    const rows = await regionRowsByCode(em, ['990000', '980000'], figureValuesSql);
    const read = rows.find((row) => row.code === '990000')!;
    expect(unitFiguresOfValues(read.storedFigures!)).toEqual(unitFiguresOfRow(columns));
    expect(unitFiguresOfValues(read.storedFigures!).mount.dataVolume).toBe('9007199254740993');
    expect(unitFiguresOfValues(read.storedFigures!).supervision.byCategory.map((c) => c.records)).toEqual(
      ['inspection', 'penalty', 'coercion', 'other'].map((k) => FIGURE_COLUMNS.indexOf(`${k}_records`) + 1),
    );
    expect(rows.find((row) => row.code === '980000')!.storedFigures).toBeNull();
    expect(() => unitFiguresOfValues(read.storedFigures!.slice(read.storedFigures!.indexOf(',') + 1))).toThrow(/figure values/);
  });

  it('generates the migration of a new figure: columns, the trigger with it, and a recount of its section', () => {
    const without = recorded.filter((figure) => figure.column !== 'penalty_records');
    const migration = figuresMigration(without, 'Migration20990101000000')!;
    expect(migration.source).toContain('add column "penalty_records" bigint not null default 0');
    expect(migration.source).toContain('penalty_records = penalty_records + new.penalty_records - old.penalty_records');
    expect(migration.source).toMatch(/update department_figures f set main_items = x\.main_items/);
    expect(migration.source).toContain('drop column "penalty_records"');
    expect(migration.figures).toEqual(FIGURES.map(({ column, type }) => ({ column, type })));
  });
});
