import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { printSchemaFile } from './print-schema';

/** Writes schema/schema.graphql; `npm run schema:emit` after changing any type. */
async function main(): Promise<void> {
  const path = join(__dirname, '..', '..', '..', 'schema', 'schema.graphql');
  writeFileSync(path, await printSchemaFile());
  process.stdout.write(`wrote ${path}\n`);
}

void main();
