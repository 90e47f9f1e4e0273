import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';
import { ConfigError } from './errors.ts';
import { redactUrl, splitSigningSecrets, urlCredentials } from './sink-auth.ts';

const dir = mkdtempSync(join(tmpdir(), 'kt-sink-auth-'));
const secret = (bytes = 32): string => `whsec_${randomBytes(bytes).toString('base64')}`;

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig({ configDir: dir, env });
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  return [];
}

describe('sink.headers', () => {
  it('takes a JSON object from SINK_HEADERS and from a config file', () => {
    const env = { SINK_HEADERS: '{"Authorization":"Bearer t0k","X-Api-Key":"k"}' };
    expect(loadConfig({ configDir: dir, env }).sink.headers).toEqual({
      Authorization: 'Bearer t0k',
      'X-Api-Key': 'k',
    });
    const file = join(dir, 'headers.json');
    writeFileSync(file, JSON.stringify({ sink: { headers: { 'X-Tenant': 'acme' } } }));
    expect(loadConfig({ configDir: dir, env: { CONFIG_FILE: file } }).sink.headers).toEqual({
      'X-Tenant': 'acme',
    });
    expect(loadConfig({ configDir: dir }).sink.headers).toEqual({});
  });

  it.each([
    [
      'a header name with a space',
      '{"X Api Key":"v"}',
      /sink\.headers: "X Api Key" is not a valid header name/,
    ],
    ['an empty header name', '{"":"v"}', /sink\.headers: "" is not a valid header name/],
    [
      'a CRLF in a value',
      '{"X-Api-Key":"v\\r\\nX-Evil: 1"}',
      /sink\.headers: the value of "X-Api-Key" contains a control character/,
    ],
    [
      'a NUL in a value',
      '{"X-Api-Key":"v\\u0000"}',
      /the value of "X-Api-Key" contains a control character/,
    ],
    [
      'X-Throttle-Id',
      '{"X-Throttle-Id":"mine"}',
      /sink\.headers: "X-Throttle-Id" cannot be overridden/,
    ],
    [
      'any X-Throttle-* header',
      '{"x-throttle-whatever":"1"}',
      /"x-throttle-whatever" cannot be overridden/,
    ],
    ['Idempotency-Key', '{"Idempotency-Key":"1"}', /"Idempotency-Key" cannot be overridden/],
    ['Content-Type', '{"content-type":"text/plain"}', /"content-type" cannot be overridden/],
    ['Content-Length', '{"Content-Length":"3"}', /"Content-Length" cannot be overridden/],
    [
      'a signature header',
      '{"Webhook-Signature":"v1,x"}',
      /"Webhook-Signature" cannot be overridden/,
    ],
    [
      'Transfer-Encoding',
      '{"Transfer-Encoding":"chunked"}',
      /"Transfer-Encoding" cannot be overridden/,
    ],
    ['one name twice', '{"X-Key":"a","x-key":"b"}', /"x-key" is given twice/],
    [
      'a value that is not a string',
      '{"X-Count":3}',
      /^sink\.headers: must be a JSON object of header names to string values/,
    ],
    ['text that is not JSON', 'Authorization: Bearer x', /^sink\.headers: must be a JSON object/],
    ['a JSON array', '["a"]', /^sink\.headers: must be a JSON object/],
  ])('refuses %s in one line naming sink.headers, never the value', (_name, value, line) => {
    const found = problems({ SINK_HEADERS: value });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(line);
    expect(found[0]).not.toContain('Bearer');
    expect(found[0]).not.toMatch(/X-Evil|v1,x/);
  });

  it('refuses an Authorization header together with credentials in sink.url', () => {
    expect(
      problems({
        SINK: 'http',
        SINK_URL: 'http://u:p@127.0.0.1/hook',
        SINK_HEADERS: '{"authorization":"Bearer x"}',
      }),
    ).toEqual([
      'sink.headers: "Authorization" conflicts with the user name and password in sink.url; give one or the other',
    ]);
  });
});

describe('sink.signingSecret', () => {
  it('takes one or more whsec_ secrets, space- or comma-separated, or a list in a file', () => {
    const [a, b] = [secret(), secret(24)];
    expect(
      loadConfig({ configDir: dir, env: { SINK_SIGNING_SECRET: a } }).sink.signingSecret,
    ).toEqual([a]);
    expect(
      loadConfig({ configDir: dir, env: { SINK_SIGNING_SECRET: ` ${a}, ${b} ` } }).sink
        .signingSecret,
    ).toEqual([a, b]);
    expect(splitSigningSecrets(`${a} ${b}`)).toEqual([a, b]);
    expect(splitSigningSecrets([a, b])).toEqual([a, b]);
    expect(loadConfig({ configDir: dir }).sink.signingSecret).toEqual([]);
  });

  it.each([
    [
      'no whsec_ prefix',
      () => randomBytes(32).toString('base64'),
      /the secret does not start with "whsec_"/,
    ],
    ['not base64', () => 'whsec_not*base64!', /the secret is not base64 after "whsec_"/],
    ['url-safe base64', () => 'whsec_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_', /is not base64/],
    ['too short a key', () => secret(8), /the secret decodes to 8 bytes, not 24 to 64/],
    ['too long a key', () => secret(65), /decodes to 65 bytes/],
  ])('refuses %s in one line naming the key, never the secret', (_name, make, line) => {
    const value = make();
    const found = problems({ SINK_SIGNING_SECRET: value });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^sink\.signingSecret: /);
    expect(found[0]).toMatch(line);
    expect(found[0]).not.toContain(value.slice(6, 14));
  });

  it('says which of several secrets is wrong', () => {
    expect(problems({ SINK_SIGNING_SECRET: `${secret()},whsec_abc` })).toEqual([
      expect.stringMatching(/^sink\.signingSecret: secret 2 of 2 is not base64/),
    ]);
  });
});

describe('credentials in sink.url', () => {
  it('percent-decodes the user name and password', () => {
    expect(urlCredentials('https://us%40er:p%3Aw%20rd@example.test/hook')).toEqual({
      user: 'us@er',
      password: 'p:w rd',
    });
    expect(urlCredentials('https://only-user@example.test/')).toEqual({
      user: 'only-user',
      password: '',
    });
    expect(urlCredentials('https://example.test/')).toBeUndefined();
  });

  it('refuses credentials it cannot decode, without showing them', () => {
    const found = problems({ SINK: 'http', SINK_URL: 'http://user:s%ZZecret@127.0.0.1/hook' });
    expect(found).toEqual([
      expect.stringMatching(/^sink\.url: the user name and password must be percent-encoded/),
    ]);
    expect(found[0]).not.toContain('ecret');
    expect(found[0]).toContain('http://***:***@127.0.0.1/hook');
  });

  it('shows an invalid URL with its credentials masked', () => {
    expect(problems({ SINK_URL: 'ftp://user:hunter2@host/x' })).toEqual([
      'sink.url: must be an http:// or https:// URL, got "ftp://***:***@host/x"',
    ]);
    expect(redactUrl('http://example.test/a@b')).toBe('http://example.test/a@b');
  });
});
