import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The admin token `pnpm start` gives ingest when none is configured, so the live page and
 * `pnpm ctl` work on the first run without a step of their own. It is kept in a file readable
 * only by its owner, next to the local broker's data (ignored by git), and never printed: the
 * terminal shows only where it is. The same file serves the next start, so an open page's token
 * stays valid across restarts.
 */
export const ADMIN_TOKEN_FILE = 'admin-token';

/** As `admin.token` validates it: at least 16 printable characters without spaces. */
const USABLE = /^[\x21-\x7e]{16,}$/;

export function adminTokenFile(dir: string): string {
  return join(dir, ADMIN_TOKEN_FILE);
}

/** The token in `dir`'s file, if there is a usable one. */
export function readAdminToken(dir: string): string | undefined {
  try {
    const token = readFileSync(adminTokenFile(dir), 'utf8').trim();
    return USABLE.test(token) ? token : undefined;
  } catch {
    return undefined;
  }
}

/** The token in `dir`'s file, made (owner-only) if missing or unusable. */
export function ensureAdminToken(dir: string): string {
  const existing = readAdminToken(dir);
  if (existing !== undefined) return existing;
  const token = randomBytes(24).toString('hex');
  const file = adminTokenFile(dir);
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  // `mode` applies only when the file is created; an unusable file left before keeps its own.
  chmodSync(file, 0o600);
  return token;
}
