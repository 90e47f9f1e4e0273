/**
 * The start-up checks of what the http sink authenticates with: `sink.url` credentials,
 * `sink.headers` and `sink.signingSecret`. They run with the rest of the configuration so a
 * mistake stops the process at once (exit 2) instead of turning every delivery into a 400 or a
 * 401 that dead-letters. Header values and secrets are sensitive: no line here repeats them.
 */

/** RFC 9110 field-name: a token. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/**
 * What Node's HTTP client accepts in a field value: tab, visible ASCII, space and obs-text.
 * Anything else (CR, LF, NUL and the other controls) would make every attempt throw.
 */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * Headers kafka-throttle sets itself: the destination relies on them (ids for deduplication,
 * signatures), or the HTTP client needs them for framing the request.
 */
const OWN_HEADERS = new Set([
  'idempotency-key',
  'content-type',
  'content-length',
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
  'host',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'expect',
]);

export const SIGNING_SECRET_PREFIX = 'whsec_';
/** The key sizes Standard Webhooks recommends (24 to 64 bytes). */
const SECRET_BYTES = { min: 24, max: 64 };
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Splits `sink.signingSecret` (one or more secrets, space- or comma-separated). */
export function splitSigningSecrets(value: unknown): string[] {
  const parts = Array.isArray(value) ? value.map(String) : value == null ? [] : [String(value)];
  return parts.flatMap((part) => part.split(/[\s,]+/)).filter((part) => part !== '');
}

/** The secret's key bytes; only for a secret `signingSecretProblem` accepted. */
export function signingKey(secret: string): Buffer {
  return Buffer.from(secret.slice(SIGNING_SECRET_PREFIX.length), 'base64');
}

function signingSecretProblem(secret: string): string | undefined {
  if (!secret.startsWith(SIGNING_SECRET_PREFIX))
    return `does not start with "${SIGNING_SECRET_PREFIX}"`;
  const encoded = secret.slice(SIGNING_SECRET_PREFIX.length);
  if (!BASE64.test(encoded)) return `is not base64 after "${SIGNING_SECRET_PREFIX}"`;
  const bytes = signingKey(secret).length;
  if (bytes < SECRET_BYTES.min || bytes > SECRET_BYTES.max) {
    return `decodes to ${bytes} bytes, not ${SECRET_BYTES.min} to ${SECRET_BYTES.max}`;
  }
  return undefined;
}

export interface SinkAuthSettings {
  url: string | undefined;
  headers: Readonly<Record<string, string>>;
  signingSecret: readonly string[];
}

/** One line per problem, each naming its key and never the secret it is about. */
export function sinkAuthProblems(sink: SinkAuthSettings): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const [name, value] of Object.entries(sink.headers)) {
    const lower = name.toLowerCase();
    if (!TOKEN.test(name)) {
      problems.push(
        `sink.headers: ${JSON.stringify(name)} is not a valid header name, expected letters, digits and !#$%&'*+-.^_\`|~ only`,
      );
    } else if (lower.startsWith('x-throttle-') || OWN_HEADERS.has(lower)) {
      problems.push(
        `sink.headers: ${JSON.stringify(name)} cannot be overridden, kafka-throttle sets it (X-Throttle-*, Idempotency-Key, Content-Type, Content-Length, webhook-* and the connection's own headers)`,
      );
    } else if (seen.has(lower)) {
      problems.push(
        `sink.headers: ${JSON.stringify(name)} is given twice (header names ignore case)`,
      );
    } else if (!FIELD_VALUE.test(value)) {
      problems.push(
        `sink.headers: the value of ${JSON.stringify(name)} contains a control character (CR, LF, NUL, …) or a character above U+00FF, which HTTP does not allow (value not shown: sensitive)`,
      );
    }
    seen.add(lower);
  }
  const credentials = urlCredentials(sink.url);
  if (credentials === 'malformed') {
    problems.push(
      `sink.url: the user name and password must be percent-encoded (a "%" not followed by two hex digits, or a ":" in the user name), got ${JSON.stringify(redactUrl(sink.url ?? ''))}`,
    );
  } else if (credentials && seen.has('authorization')) {
    problems.push(
      'sink.headers: "Authorization" conflicts with the user name and password in sink.url; give one or the other',
    );
  }
  const secrets = sink.signingSecret;
  secrets.forEach((secret, index) => {
    const problem = signingSecretProblem(secret);
    if (problem === undefined) return;
    const which = secrets.length > 1 ? `secret ${index + 1} of ${secrets.length}` : 'the secret';
    problems.push(
      `sink.signingSecret: ${which} ${problem}; expected "${SIGNING_SECRET_PREFIX}" followed by the base64 of ${SECRET_BYTES.min} to ${SECRET_BYTES.max} random bytes (value not shown: sensitive)`,
    );
  });
  return problems;
}

/**
 * The user name and password of a URL, percent-decoded, as HTTP Basic authentication uses
 * them; undefined without credentials, 'malformed' when they cannot be decoded or the user
 * name holds a ":" (Basic authentication could not tell where it ends).
 */
export function urlCredentials(
  url: string | undefined,
): { user: string; password: string } | 'malformed' | undefined {
  if (url === undefined) return undefined;
  const parsed = new URL(url);
  if (parsed.username === '' && parsed.password === '') return undefined;
  try {
    const user = decodeURIComponent(parsed.username);
    const password = decodeURIComponent(parsed.password);
    return user.includes(':') ? 'malformed' : { user, password };
  } catch {
    return 'malformed';
  }
}

/** A URL fit for logs, metrics and error lines: any user name and password masked. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, '$1***:***@');
}
