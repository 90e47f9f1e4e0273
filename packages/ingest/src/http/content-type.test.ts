import { describe, expect, it } from 'vitest';
import { isJsonContentType } from './content-type.ts';

describe('isJsonContentType', () => {
  it.each([
    'application/json',
    'application/json; charset=utf-8',
    'Application/JSON;charset=UTF-8',
    'application/json ; charset="utf-8"',
  ])('accepts %s', (header) => {
    expect(isJsonContentType(header)).toBe(true);
  });

  it.each([
    undefined,
    '',
    'text/plain',
    'application/x-www-form-urlencoded',
    'application/jsonp',
    'application/json-seq',
    'text/json',
  ])('refuses %s', (header) => {
    expect(isJsonContentType(header)).toBe(false);
  });
});
