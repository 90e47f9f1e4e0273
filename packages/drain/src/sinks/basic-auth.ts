import { urlCredentials } from '@kafka-throttle/common';
import { DrainError } from '../errors.ts';

/**
 * The `Authorization` header for the user name and password in a sink URL (HTTP Basic, UTF-8,
 * percent-decoded), or undefined when the URL has none. Node's HTTP client would silently drop
 * them, and the destination would answer 401 to every delivery.
 */
export function basicAuthorization(url: string): string | undefined {
  const credentials = urlCredentials(url);
  if (credentials === undefined) return undefined;
  if (credentials === 'malformed') {
    // loadConfig refuses such a URL already; a hand-built configuration could still carry it.
    throw new DrainError(
      'invalid_config',
      'sink.url: the user name and password must be percent-encoded',
    );
  }
  const pair = Buffer.from(`${credentials.user}:${credentials.password}`, 'utf8');
  return `Basic ${pair.toString('base64')}`;
}
