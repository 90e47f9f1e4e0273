import { IngestError } from '../errors.ts';

/**
 * Deepest nesting of arrays and objects accepted. V8's JSON.parse copes with far more, but the
 * APIs behind the throttle may parse recursively; a body that would crash them is refused here.
 */
export const MAX_JSON_DEPTH = 128;

// fatal: invalid UTF-8 throws instead of becoming U+FFFD. ignoreBOM: a BOM stays in the text,
// so JSON.parse rejects it and every stored body is plain UTF-8 JSON that any consumer reads.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Throws `invalid_json` unless `body` is one JSON value in UTF-8, nested at most `maxDepth`. */
export function validateJson(body: Uint8Array, maxDepth = MAX_JSON_DEPTH): void {
  if (body.length === 0) throw new IngestError('invalid_json', 'the body is empty');
  let text: string;
  try {
    text = decoder.decode(body);
  } catch {
    throw new IngestError('invalid_json', 'the body is not valid UTF-8');
  }
  if (mayNestDeeperThan(body, maxDepth) && nestsDeeperThan(text, maxDepth)) {
    throw new IngestError('invalid_json', `the JSON nests deeper than ${maxDepth} levels`);
  }
  try {
    JSON.parse(text);
  } catch (error) {
    const reason = error instanceof SyntaxError ? error.message : 'it cannot be parsed';
    throw new IngestError('invalid_json', `the body is not valid JSON: ${reason}`);
  }
}

/**
 * Nesting deeper than `maxDepth` needs more than `maxDepth` opening brackets; counting them with
 * the native indexOf is an order of magnitude faster than the exact scan, which most bodies
 * then skip.
 */
function mayNestDeeperThan(body: Uint8Array, maxDepth: number): boolean {
  let openings = 0;
  for (const bracket of [OPEN_BRACKET, OPEN_BRACE]) {
    for (let i = body.indexOf(bracket); i !== -1; i = body.indexOf(bracket, i + 1)) {
      if (++openings > maxDepth) return true;
    }
  }
  return false;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/**
 * One pass over the text counting brackets outside strings. Exact for valid JSON; for invalid
 * JSON it may be wrong, which is harmless since JSON.parse refuses that text anyway.
 */
export function nestsDeeperThan(text: string, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      if (++depth > maxDepth) return true;
    } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) {
      depth--;
    }
  }
  return false;
}
