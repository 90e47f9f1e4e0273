import { describe, expect, it } from 'vitest';
import { createLineFormatter } from './log-line.ts';
import { clockTime } from './pace.ts';

const pino = (fields: Record<string, unknown>): string =>
  JSON.stringify({
    level: 30,
    time: '2026-01-02T03:04:05.000Z',
    service: 'drain',
    pid: 7,
    ...fields,
  });

describe('createLineFormatter', () => {
  it('shows a delivery as one line with the time the sink took it, its count, partition@offset and body', () => {
    const times: number[] = [];
    const formatter = createLineFormatter({ onDelivery: (time) => times.push(time) });
    const first = pino({
      msg: 'delivered',
      id: 'a',
      partition: 3,
      offset: '17',
      body: { number: 1 },
    });
    const second = pino({
      msg: 'delivered',
      id: 'b',
      partition: 0,
      offset: '4',
      body: '{"number":2}',
    });
    const at = clockTime(new Date('2026-01-02T03:04:05.000Z'));
    expect(at).toMatch(/^\d\d:\d\d:05\.000$/);
    expect(formatter.format(first)).toBe(`${at} delivered #1 p3@17 {"number":1}`);
    expect(formatter.format(second)).toBe(`${at} delivered #2 p0@4 {"number":2}`);
    expect(formatter.deliveries).toBe(2);
    expect(times).toEqual([
      Date.parse('2026-01-02T03:04:05.000Z'),
      Date.parse('2026-01-02T03:04:05.000Z'),
    ]);
  });

  it('clips a huge body so one delivery stays one readable line', () => {
    const line = createLineFormatter().format(
      pino({ msg: 'delivered', partition: 0, offset: '1', body: 'x'.repeat(5000) }),
    );
    expect(line.length).toBeLessThan(400);
    expect(line.endsWith('…')).toBe(true);
  });

  it('turns other pino lines into time, level, message and the fields that matter', () => {
    const line = createLineFormatter().format(
      pino({ level: 40, msg: 'sink answered', status: 503, url: 'http://x/', note: 'two words' }),
    );
    expect(line).toMatch(
      /^\d\d:\d\d:\d\d\.000 WARN {2}sink answered status=503 url=http:\/\/x\/ note="two words"$/,
    );
    expect(line).not.toContain('pid=');
    expect(line).not.toContain('service=');
  });

  it('shows an error by its message', () => {
    const line = createLineFormatter().format(
      pino({
        level: 50,
        msg: 'produce failed',
        err: { type: 'Error', message: 'boom', stack: 'at x' },
      }),
    );
    expect(line).toContain('ERROR produce failed err="boom"');
    expect(line).not.toContain('stack');
  });

  it('passes through lines that are not pino JSON', () => {
    const formatter = createLineFormatter();
    for (const line of ['plain text', '{not json', '[1,2]', '{"no":"msg"}', '']) {
      expect(formatter.format(line)).toBe(line);
    }
    expect(formatter.deliveries).toBe(0);
  });
});
