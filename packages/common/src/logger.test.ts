import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.ts';

function captured(): { lines: string[]; destination: Writable } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').trim().split('\n'));
      done();
    },
  });
  return { lines, destination };
}

describe('createLogger', () => {
  it("never writes the destination's credentials, headers or signing secrets", () => {
    const { lines, destination } = captured();
    const logger = createLogger({ level: 'info', name: 'test', destination });
    const sink = {
      type: 'http',
      url: 'http://user:hunter2@example.test/hook',
      headers: { 'X-Api-Key': 'key-123' },
      signingSecret: ['whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0'],
      timeout: 1000,
    };
    logger.info({ config: { sink } }, 'configured');
    logger.info({ sink }, 'sink');
    logger.info({ headers: { authorization: 'Basic dXNlcjpodW50ZXIy' } }, 'request');
    const text = lines.join('\n');
    for (const secret of ['hunter2', 'key-123', 'whsec_', 'dXNlcjpodW50ZXIy']) {
      expect(text).not.toContain(secret);
    }
    expect(JSON.parse(lines[1] ?? '{}').sink).toMatchObject({ type: 'http', timeout: 1000 });
  });
});
