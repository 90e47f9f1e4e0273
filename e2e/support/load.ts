import { type Answer, post } from './client.ts';
import { sleep } from './wait.ts';

/** Clients POSTing {"number": i} to ingest until told to stop, keeping every answer. */
export interface Load {
  readonly answers: readonly Answer[];
  /** Epoch ms when each answer (same index) came back. */
  readonly answeredAt: readonly number[];
  accepted(): number;
  stop(): Promise<void>;
}

/**
 * `clients` loops, each POSTing one request after the other (numbers shared and increasing),
 * pausing `pauseMs` between requests.
 */
export function startLoad(
  url: () => string,
  options: { clients: number; pauseMs: number; timeoutMs?: number },
): Load {
  const answers: Answer[] = [];
  const answeredAt: number[] = [];
  let stopped = false;
  let next = 1;
  const client = async (): Promise<void> => {
    while (!stopped) {
      const n = next++;
      answers.push(await post(url(), { number: n }, options.timeoutMs ?? 20_000));
      answeredAt.push(Date.now());
      if (options.pauseMs > 0) await sleep(options.pauseMs);
    }
  };
  const clients = Array.from({ length: options.clients }, client);
  return {
    answers,
    answeredAt,
    accepted: () => answers.filter((a) => a.kind === 'answer' && a.status === 202).length,
    async stop() {
      stopped = true;
      await Promise.all(clients);
    },
  };
}

/** A backlog: `count` POSTs of {"number": 1..count}, ten at a time, every answer kept in order. */
export async function postBacklog(url: string, count: number): Promise<Answer[]> {
  const answers: Answer[] = [];
  for (let i = 1; i <= count; i += 10) {
    const round = Math.min(10, count - i + 1);
    answers.push(
      ...(await Promise.all(Array.from({ length: round }, (_, k) => post(url, { number: i + k })))),
    );
  }
  return answers;
}

/** Answers grouped for a test's message: "202 x 40, 503 x 3, ECONNREFUSED x 1". */
export function answerCounts(answers: readonly Answer[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const answer of answers) {
    const key = answer.kind === 'answer' ? String(answer.status) : answer.error;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}
