import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../../../test-support/manual-clock.ts';
import { createIdempotencyGuard } from './idempotency-guard.ts';

const body = (text: string): Buffer => Buffer.from(text);

function setup(window = 60_000, maxKeys = 100) {
  const clock = createManualClock();
  return { clock, guard: createIdempotencyGuard({ clock, window, maxKeys }) };
}

describe('idempotency guard', () => {
  it('lets the same key with the same body through again (a retry)', () => {
    const { guard } = setup();
    guard.claim('k', body('{"a":1}'));
    expect(() => guard.claim('k', body('{"a":1}'))).not.toThrow();
  });

  it('refuses the same key with a different body within the window', () => {
    const { guard } = setup();
    guard.claim('k', body('{"a":1}'));
    expect(() => guard.claim('k', body('{"a":2}'))).toThrow(
      expect.objectContaining({ code: 'idempotency_conflict', status: 409 }),
    );
  });

  it('forgets a key once the window has passed', async () => {
    const { clock, guard } = setup(1000);
    guard.claim('k', body('{"a":1}'));
    await clock.advance(999);
    expect(() => guard.claim('k', body('{"a":2}'))).toThrow();
    await clock.advance(1000);
    expect(() => guard.claim('k', body('{"a":2}'))).not.toThrow();
  });

  it('releases a key whose request was not accepted, so a corrected retry passes', () => {
    const { guard } = setup();
    const release = guard.claim('k', body('{"a":1}'));
    release();
    expect(() => guard.claim('k', body('{"a":2}'))).not.toThrow();
  });

  it('remembers at most maxKeys keys, forgetting the oldest first', () => {
    const { guard } = setup(60_000, 2);
    guard.claim('a', body('1'));
    guard.claim('b', body('1'));
    guard.claim('c', body('1'));
    expect(() => guard.claim('a', body('2'))).not.toThrow();
    expect(() => guard.claim('c', body('2'))).toThrow();
  });

  it('checks nothing with a window of 0', () => {
    const { guard } = setup(0);
    guard.claim('k', body('1'));
    expect(() => guard.claim('k', body('2'))).not.toThrow();
  });
});
