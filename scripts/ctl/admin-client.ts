/** What the admin API answered: its status and its JSON body. */
export interface AdminAnswer {
  status: number;
  body: unknown;
}

export class UnreachableError extends Error {}

/** One request to the admin API with the bearer token. */
export async function callAdmin(
  baseUrl: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<AdminAnswer> {
  let response: Response;
  try {
    response = await fetch(new URL(path, baseUrl), {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    throw new UnreachableError(
      `cannot reach the admin API at ${baseUrl} (${cause ?? (error as Error).message}); is ingest running with admin.token set?`,
    );
  }
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not ours (a proxy's page?): shown as it came.
  }
  return { status: response.status, body: parsed };
}

/** The admin URL for a host an admin server listens on: a wildcard address is reached locally. */
export function adminUrl(host: string, port: number): string {
  const local = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${local.includes(':') ? `[${local}]` : local}:${port}/`;
}
