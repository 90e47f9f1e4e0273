/** The port in a service's "… listening" pino line (services may be started on port 0). */
export function listeningPort(line: string): number | undefined {
  return portOfLine(line, (msg) => msg.includes('listening'));
}

/** The port in ingest's "admin server listening" line. */
export function adminListeningPort(line: string): number | undefined {
  return portOfLine(line, (msg) => msg === 'admin server listening');
}

function portOfLine(line: string, matches: (msg: string) => boolean): number | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const entry = JSON.parse(line) as { msg?: unknown; port?: unknown };
    return typeof entry.msg === 'string' && matches(entry.msg) && typeof entry.port === 'number'
      ? entry.port
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Resolves true once GET /readyz on `port` answers 200 (ingest reached Kafka and its topic
 * exists: POSTs get 202 from then on), false if `signal` aborts first.
 */
export async function waitUntilReady(port: number, signal: AbortSignal): Promise<boolean> {
  while (!signal.aborted) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/readyz`, {
        signal: AbortSignal.any([signal, AbortSignal.timeout(2000)]),
      });
      await response.arrayBuffer();
      if (response.status === 200) return true;
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return false;
}
