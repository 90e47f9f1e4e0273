/** What ingest answered one POST, or why there was no answer. */
export type Answer =
  | { kind: 'answer'; status: number; id: string | undefined; body: unknown }
  | { kind: 'no-answer'; error: string };

/** POSTs a JSON body to ingest like any client would. */
export async function post(
  url: string,
  body: unknown,
  timeoutMs = 20_000,
  headers: Record<string, string> = {},
): Promise<Answer> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // keep the text
    }
    const id =
      parsed && typeof parsed === 'object' && 'id' in parsed
        ? String((parsed as { id: unknown }).id)
        : undefined;
    return { kind: 'answer', status: response.status, id, body: parsed };
  } catch (error) {
    const cause =
      error instanceof Error ? (error.cause as { code?: string } | undefined) : undefined;
    return {
      kind: 'no-answer',
      error: cause?.code ?? (error instanceof Error ? error.message : String(error)),
    };
  }
}

/** The ids of the answers that were 202. */
export function acceptedIds(answers: readonly Answer[]): string[] {
  return answers.flatMap((a) => (a.kind === 'answer' && a.status === 202 && a.id ? [a.id] : []));
}
