import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { adminTokenFile, ensureAdminToken, readAdminToken } from './admin-token.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'admin-token-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the admin token pnpm start makes', () => {
  it('is made once, readable by its owner only, and the same on the next start', async () => {
    expect(readAdminToken(dir)).toBeUndefined();
    const token = ensureAdminToken(dir);
    expect(token).toMatch(/^[0-9a-f]{48}$/);
    expect((await stat(adminTokenFile(dir))).mode & 0o777).toBe(0o600);
    expect(ensureAdminToken(dir)).toBe(token);
    expect(readAdminToken(dir)).toBe(token);
  });

  it('replaces a file that holds no usable token, and makes it owner-only', async () => {
    await writeFile(adminTokenFile(dir), 'short\n', { mode: 0o644 });
    expect(readAdminToken(dir)).toBeUndefined();
    const token = ensureAdminToken(dir);
    expect(token).not.toBe('short');
    expect(readAdminToken(dir)).toBe(token);
    expect((await stat(adminTokenFile(dir))).mode & 0o777).toBe(0o600);
  });
});
