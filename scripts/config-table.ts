import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { withConfigTable } from './docs/config-table.ts';

// `pnpm docs:config`: rewrites the configuration table in README.md from the schema, then lets
// the repository's formatter lay it out, so `pnpm lint` stays green.
const readmePath = fileURLToPath(new URL('../README.md', import.meta.url));
writeFileSync(readmePath, withConfigTable(readFileSync(readmePath, 'utf8')));
execFileSync('biome', ['format', '--write', readmePath], { stdio: 'inherit' });
console.log('README.md configuration table updated');
