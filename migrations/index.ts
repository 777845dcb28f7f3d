import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261123183802 } from './Migration20261123183802';
import { Migration20261123185207 } from './Migration20261123185207';
import { Migration20261123190028 } from './Migration20261123190028';
import { Migration20261123191222 } from './Migration20261123191222';
import { Migration20261123191343 } from './Migration20261123191343';
import { Migration20261123200507 } from './Migration20261123200507';
import { Migration20261123202839 } from './Migration20261123202839';
import { Migration20261123203727 } from './Migration20261123203727';
import { Migration20261123204800 } from './Migration20261123204800';
import { Migration20261124173753 } from './Migration20261124173753';
import { Migration20261130054000 } from './Migration20261130054000';
import { Migration20261130060000 } from './Migration20261130060000';
import { Migration20261130100000 } from './Migration20261130100000';
import { Migration20261130233000 } from './Migration20261130233000';
import { Migration20261201033000 } from './Migration20261201033000';
import { Migration20261201100000 } from './Migration20261201100000';
import { Migration20261201180000 } from './Migration20261201180000';
import { Migration20261201203000 } from './Migration20261201203000';

/**
 * Every migration, in order. Listed by hand because the compiled app and the
 * TypeScript tests load them differently; test/db/migrations.test.ts fails
 * when a file in this folder is missing here.
 */
export const migrationsList: MigrationObject[] = [
  { name: 'Migration20261123183802', class: Migration20261123183802 },
  { name: 'Migration20261123185207', class: Migration20261123185207 },
  { name: 'Migration20261123190028', class: Migration20261123190028 },
  { name: 'Migration20261123191222', class: Migration20261123191222 },
  { name: 'Migration20261123191343', class: Migration20261123191343 },
  { name: 'Migration20261123200507', class: Migration20261123200507 },
  { name: 'Migration20261123202839', class: Migration20261123202839 },
  { name: 'Migration20261123203727', class: Migration20261123203727 },
  { name: 'Migration20261123204800', class: Migration20261123204800 },
  { name: 'Migration20261124173753', class: Migration20261124173753 },
  { name: 'Migration20261130054000', class: Migration20261130054000 },
  { name: 'Migration20261130060000', class: Migration20261130060000 },
  { name: 'Migration20261130100000', class: Migration20261130100000 },
  { name: 'Migration20261130233000', class: Migration20261130233000 },
  { name: 'Migration20261201033000', class: Migration20261201033000 },
  { name: 'Migration20261201100000', class: Migration20261201100000 },
  { name: 'Migration20261201180000', class: Migration20261201180000 },
  { name: 'Migration20261201203000', class: Migration20261201203000 },
];
