import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** An endpoint answering the n-th POST (from 1) with `status(n)`, as ingest would. */
async function endpoint(status: (n: number) => number): Promise<{ url: string; posts: number[] }> {
  const posts: number[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const { number } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { number: number };
      posts.push(number);
      const code = status(number);
      response.writeHead(code, { 'content-type': 'application/json' });
      response.end(
        code === 202
          ? JSON.stringify({ status: 'accepted', id: `id-${number}`, partition: 0, offset: '0' })
          : JSON.stringify({ error: { code: 'kafka_unavailable', message: 'down' } }),
      );
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, posts };
}

/** `pnpm bombard` as a process: resolves with its exit code and what it printed. */
function bombard(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/bombard.ts', ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk;
  });
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

describe('pnpm bombard exit status', () => {
  it('is 0 when every request was accepted', async () => {
    const target = await endpoint(() => 202);
    const run = await bombard(['--count', '20', '--url', target.url]);
    expect(run.code, run.stderr).toBe(0);
    expect(target.posts.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it('is 1 when any request was not accepted', async () => {
    const target = await endpoint((n) => (n === 7 ? 503 : 202));
    const run = await bombard(['--count', '20', '--url', target.url]);
    expect(run.code).toBe(1);
    expect(target.posts).toHaveLength(20);
    expect(run.stderr).toMatch(/1 of 20 requests were not accepted/);
  });

  it('is 1 when nothing answers', async () => {
    const target = await endpoint(() => 202);
    const dead = target.url;
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
    const run = await bombard(['--count', '3', '--url', dead]);
    expect(run.code).toBe(1);
  });

  it('is 2 for a flag it does not know', async () => {
    const run = await bombard(['--countt', '3']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/bombard:/);
  });
}, 120_000);
