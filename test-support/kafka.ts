import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';

/** The bootstrap address of the run's throwaway broker (see global-setup.ts). */
export function testBrokers(): string[] {
  return [inject('kafkaBrokers')];
}

/** A topic or group name no other test uses, so tests never see each other's records. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}
