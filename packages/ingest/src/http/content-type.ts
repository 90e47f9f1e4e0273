/**
 * True for `application/json` with any parameters (`; charset=utf-8`, …), in any letter case.
 * The charset parameter is accepted but not trusted: the body must be UTF-8 JSON regardless
 * (RFC 8259 §8.1), which json-validation checks.
 */
export function isJsonContentType(header: string | undefined): boolean {
  if (header === undefined) return false;
  const semicolon = header.indexOf(';');
  const mediaType = (semicolon === -1 ? header : header.slice(0, semicolon)).trim().toLowerCase();
  return mediaType === 'application/json';
}
