/**
 * Reads a `Retry-After` header: delay-seconds ("120") or an HTTP date. Returns how many
 * milliseconds from `now` the destination asked us to wait, or undefined when the header is
 * absent or unreadable. A date in the past means no wait (0).
 */
export function parseRetryAfter(
  value: string | string[] | undefined,
  now: number,
): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // Only the HTTP date forms; Date.parse alone would also accept "1.5" or "tomorrow".
  if (!/[a-z]{3}.*\d{4}|\d{4}-\d{2}-\d{2}/i.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}
