import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { withConfigTable } from './docs/config-table.ts';

// `pnpm docs:config`: rewrites the configuration table in README.md from the schema.
const readmePath = fileURLToPath(new URL('../README.md', import.meta.url));
writeFileSync(readmePath, withConfigTable(readFileSync(readmePath, 'utf8')));
console.log('README.md configuration table updated');
