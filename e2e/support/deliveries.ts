import type { Destination } from './destination.ts';
import type { ScriptProcess } from './processes.ts';
import { waitUntil } from './wait.ts';

/**
 * Waits until `condition` holds for the destination; on a timeout says how many deliveries came
 * and what the services logged last, so a failure can be understood from the report alone.
 */
export function waitForDeliveries(
  what: string,
  destination: Destination,
  condition: () => boolean,
  services: readonly ScriptProcess[],
  timeoutMs: number,
): Promise<void> {
  return waitUntil(what, condition, timeoutMs, 50, () =>
    [
      `destination: ${destination.arrivals.length} deliveries, ${destination.ids().size} distinct`,
      ...services.map(
        (s) =>
          `--- last lines of ${s.name} (${s.exit ? `exited ${JSON.stringify(s.exit)}` : 'running'}):\n${s.lines.slice(-15).join('\n')}`,
      ),
    ].join('\n'),
  );
}
