import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { configSchema } from '@kafka-throttle/common';
import { describe, expect, it } from 'vitest';
import { configTableCells, renderConfigTable } from './config-table.ts';

const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');

describe('the README configuration table', () => {
  it('lists every configuration key with its environment variable', () => {
    const table = renderConfigTable();
    for (const [key, spec] of Object.entries(configSchema)) {
      expect(table).toContain(`| \`${key}\` | \`${spec.env}\` |`);
    }
  });

  it('is the one generated from the schema (run `pnpm docs:config` after changing keys)', () => {
    const { inReadme, fromSchema } = configTableCells(readme);
    expect(inReadme).toEqual(fromSchema);
  });

  it('notices a README whose table has drifted from the schema', () => {
    const drifted = readme.replace('`RATE_MESSAGES`', '`RATE_MSGS`');
    expect(drifted).not.toBe(readme);
    const { inReadme, fromSchema } = configTableCells(drifted);
    expect(inReadme).not.toEqual(fromSchema);
  });
});
