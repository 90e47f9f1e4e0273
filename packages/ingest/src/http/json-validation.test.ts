import { describe, expect, it } from 'vitest';
import { IngestError } from '../errors.ts';
import { MAX_JSON_DEPTH, nestsDeeperThan, validateJson } from './json-validation.ts';

const bytes = (text: string): Buffer => Buffer.from(text, 'utf8');

function refusal(body: Uint8Array, maxDepth?: number): IngestError {
  try {
    validateJson(body, maxDepth);
  } catch (error) {
    if (error instanceof IngestError) return error;
    throw error;
  }
  throw new Error('the body was accepted');
}

describe('validateJson', () => {
  it.each([
    ['an object', '{"a":1,"b":[true,false,null],"c":"ü €"}'],
    ['an array', '[1,2.5,-3e8]'],
    ['a bare string', '"hello"'],
    ['a number', '42'],
    ['null', 'null'],
    ['surrounding whitespace', ' \n\t{"a":1} \r\n'],
    ['escaped quotes and brackets inside strings', '{"a":"\\"[[[{{{\\\\","b":"]]]"}'],
  ])('accepts %s', (_, text) => {
    expect(() => validateJson(bytes(text))).not.toThrow();
  });

  it.each([
    ['an empty body', '', 'the body is empty'],
    ['whitespace only', '   ', 'not valid JSON'],
    ['truncated JSON', '{"a":[1,2', 'not valid JSON'],
    ['two values', '{} {}', 'not valid JSON'],
    ['a trailing comma', '[1,]', 'not valid JSON'],
    ['single quotes', "{'a':1}", 'not valid JSON'],
    ['a byte order mark', '\uFEFF{"a":1}', 'not valid JSON'],
  ])('refuses %s with invalid_json', (_, text, message) => {
    const error = refusal(bytes(text));
    expect(error.code).toBe('invalid_json');
    expect(error.status).toBe(400);
    expect(error.message).toContain(message);
  });

  it.each([
    ['a stray continuation byte', [0x22, 0x80, 0x22]],
    ['an overlong encoding of "/"', [0x22, 0xc0, 0xaf, 0x22]],
    ['an encoded surrogate', [0x22, 0xed, 0xa0, 0x80, 0x22]],
    ['a truncated sequence', [0x22, 0xe2, 0x82, 0x22]],
    ['0xFF', [0x22, 0xff, 0x22]],
  ])('refuses invalid UTF-8: %s', (_, raw) => {
    const error = refusal(Uint8Array.from(raw));
    expect(error.code).toBe('invalid_json');
    expect(error.message).toContain('UTF-8');
  });

  it('accepts nesting up to the limit and refuses one level more', () => {
    const nested = (depth: number): Buffer => bytes(`${'['.repeat(depth)}${']'.repeat(depth)}`);
    expect(() => validateJson(nested(MAX_JSON_DEPTH))).not.toThrow();
    const error = refusal(nested(MAX_JSON_DEPTH + 1));
    expect(error.code).toBe('invalid_json');
    expect(error.message).toContain(`deeper than ${MAX_JSON_DEPTH}`);
  });

  it('refuses 200 000 levels of nesting without overflowing the stack', () => {
    const error = refusal(bytes('['.repeat(200_000)));
    expect(error.message).toContain('deeper than');
  });

  it('counts objects and arrays alike, and ignores brackets inside strings', () => {
    expect(nestsDeeperThan('{"a":[{"b":[1]}]}', 3)).toBe(true);
    expect(nestsDeeperThan('{"a":[{"b":[1]}]}', 4)).toBe(false);
    expect(nestsDeeperThan('["[[[[[[", "\\"[[[["]', 1)).toBe(false);
  });
});
