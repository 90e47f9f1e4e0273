import uPlot from 'uplot';

interface HistoryPoint {
  at: number;
  delivered: number;
  retried: number;
  deadLettered: number;
  limit: number;
}
interface History {
  points: HistoryPoint[];
  kafka: { reachable: boolean; error: string | null };
}
interface Status {
  state: { paused: boolean; version: number };
  rate: { messages: number; period: string; burst: number };
  hold: { active: boolean; until: string; reason: string } | null;
  /** Workers whose destination breaker is open: they send nothing but probes. */
  breakers: { worker: string; reason: string; since: string }[];
  partitions: { partition: number; backlog: number; oldestWaitingAgeMs: number | null }[];
  backlog: number;
  group: { id: string; state: string; members: Member[] };
  deadLetter: { topic: string; depth: number };
}
interface Member {
  clientId: string;
  host: string;
  partitions: number[];
  share: number;
}
interface ReplayAnswer {
  dryRun: boolean;
  moved: number;
  filtered: number;
  malformed: number;
}
interface ErrorBody {
  error?: { code: string; message: string };
}

/** Per tab, never in the URL: the token lives in sessionStorage and goes out as a header. */
const TOKEN_KEY = 'kafka-throttle.admin-token';
const POLL_MS = 1000;

function el<T extends HTMLElement = HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`#${id} missing from the page`);
  return found as T;
}
const text = (id: string, value: string): void => {
  el(id).textContent = value;
};

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function call<T>(
  token: string,
  method: string,
  path: string,
  body?: unknown,
  timeoutMs = 10_000,
): Promise<T> {
  const headers: Record<string, string> = { Authorization: `Bearer ${token}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? null : JSON.stringify(body),
    cache: 'no-store',
    signal: AbortSignal.timeout(timeoutMs),
  });
  const parsed = (await response.json()) as T & ErrorBody;
  if (!response.ok) {
    const error = parsed.error;
    throw new HttpError(
      response.status,
      error?.code ?? 'error',
      error?.message ?? `${response.status}`,
    );
  }
  return parsed;
}

function age(ms: number | null): string {
  if (ms === null) return 'none';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms / 60_000)} min`;
}

function createChart(): uPlot {
  const target = el('chart');
  return new uPlot(
    {
      width: Math.max(400, Math.min(1000, target.clientWidth || 900)),
      height: 260,
      scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.15)] } },
      series: [
        {},
        { label: 'delivered/s', stroke: '#3d6fd9', width: 2 },
        { label: 'retried/s', stroke: '#e08a00', width: 2 },
        { label: 'dead-lettered/s', stroke: '#b3261e', width: 2 },
        { label: 'limit/s', stroke: '#2e7d32', width: 1, dash: [6, 4], points: { show: false } },
      ],
    },
    [[], [], [], [], []],
    target,
  );
}

function showHistory(chart: uPlot, history: History): void {
  const { points } = history;
  chart.setData([
    points.map((p) => p.at / 1000),
    points.map((p) => p.delivered),
    points.map((p) => p.retried),
    points.map((p) => p.deadLettered),
    points.map((p) => p.limit),
  ]);
  const last = points[points.length - 1];
  text('delivered-now', last ? last.delivered.toFixed(1) : '0');
  text('retried-now', last ? last.retried.toFixed(1) : '0');
  text('dead-now', last ? last.deadLettered.toFixed(1) : '0');
  let delivered = 0;
  let retried = 0;
  let dead = 0;
  for (let i = 1; i < points.length; i++) {
    const seconds = ((points[i]?.at ?? 0) - (points[i - 1]?.at ?? 0)) / 1000;
    delivered += (points[i]?.delivered ?? 0) * seconds;
    retried += (points[i]?.retried ?? 0) * seconds;
    dead += (points[i]?.deadLettered ?? 0) * seconds;
  }
  text('delivered-total', String(Math.round(delivered)));
  text('retried-total', String(Math.round(retried)));
  text('dead-total', String(Math.round(dead)));
  el('chart').dataset.points = String(points.length);
}

function showStatus(status: Status): void {
  const holding = status.hold?.active === true;
  const breakers = status.breakers ?? [];
  const state = status.state.paused
    ? 'paused'
    : breakers.length > 0
      ? 'breaker open'
      : holding
        ? 'held'
        : 'running';
  text('state', state);
  el('state').dataset.state = state;
  text(
    'hold',
    [
      holding && status.hold ? `held until ${status.hold.until} (${status.hold.reason})` : '',
      ...breakers.map(
        (b) => `destination breaker open in ${b.worker} since ${b.since}: ${b.reason}`,
      ),
    ]
      .filter((line) => line !== '')
      .join('; '),
  );
  text('rate', `${status.rate.messages} per ${status.rate.period}, burst ${status.rate.burst}`);
  text('version', String(status.state.version));
  text('backlog', String(status.backlog));
  const ages = status.partitions.map((p) => p.oldestWaitingAgeMs).filter((a) => a !== null);
  text('oldest', ages.length ? age(Math.max(...ages)) : 'none');
  const widest = Math.max(1, ...status.partitions.map((p) => p.backlog));
  el('partitions').replaceChildren(
    ...status.partitions.map((p) => {
      const row = document.createElement('div');
      row.className = 'bar';
      const label = document.createElement('span');
      label.textContent = `p${p.partition}`;
      const fill = document.createElement('span');
      fill.className = 'fill';
      fill.style.width = `${(p.backlog / widest) * 60}%`;
      const count = document.createElement('span');
      count.textContent = `${p.backlog}${p.oldestWaitingAgeMs === null ? '' : `, oldest ${age(p.oldestWaitingAgeMs)}`}`;
      row.append(label, fill, count);
      return row;
    }),
  );
  text('group-state', `${status.group.id}: ${status.group.state}`);
  el('workers').replaceChildren(
    ...status.group.members.map((m) => {
      const row = document.createElement('tr');
      for (const cell of [m.clientId, m.host, m.partitions.join(', '), String(m.share)]) {
        const td = document.createElement('td');
        td.textContent = cell;
        row.append(td);
      }
      return row;
    }),
  );
  text('dlq-depth', String(status.deadLetter.depth));
  text('dlq-topic', status.deadLetter.topic);
}

/** Stale numbers are worse than none: while something is unreachable only the banner shows. */
function setProblem(problem: string | null): void {
  const banner = el('banner');
  banner.hidden = problem === null;
  banner.textContent = problem ?? '';
  el('dash').hidden = problem !== null;
}

function problemOf(error: unknown): string {
  if (error instanceof HttpError) {
    return error.code === 'kafka_unavailable'
      ? `Kafka cannot be reached: ${error.message}`
      : `The admin API answered ${error.status}: ${error.message}`;
  }
  return 'The admin API cannot be reached.';
}

function run(token: string): void {
  const chart = createChart();
  let stopped = false;
  let statusProblem: string | null = null;
  let historyProblem: string | null = null;
  const refresh = () => setProblem(statusProblem ?? historyProblem);
  const signedOut = (error: unknown): boolean => {
    if (!(error instanceof HttpError) || error.status !== 401) return false;
    stopped = true;
    sessionStorage.removeItem(TOKEN_KEY);
    showLogin('The admin token is no longer accepted.');
    return true;
  };
  const loop = async (work: () => Promise<void>, onError: (error: unknown) => void) => {
    while (!stopped) {
      try {
        await work();
      } catch (error) {
        if (!signedOut(error)) onError(error);
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  };
  void loop(
    async () => {
      showStatus(await call<Status>(token, 'GET', '/status'));
      statusProblem = null;
      refresh();
    },
    (error) => {
      statusProblem = problemOf(error);
      refresh();
    },
  );
  void loop(
    async () => {
      const history = await call<History>(token, 'GET', '/history');
      historyProblem = history.kafka.reachable
        ? null
        : `Kafka cannot be reached: ${history.kafka.error ?? 'no offsets read yet'}`;
      showHistory(chart, history);
      refresh();
    },
    (error) => {
      historyProblem = problemOf(error);
      refresh();
    },
  );

  const act = async (method: string, path: string, body?: unknown) => {
    text('action-error', '');
    try {
      await call<unknown>(token, method, path, body);
      showStatus(await call<Status>(token, 'GET', '/status'));
    } catch (error) {
      if (!signedOut(error))
        text('action-error', error instanceof Error ? error.message : String(error));
    }
  };
  el('pause').onclick = () => void act('POST', '/pause');
  el('resume').onclick = () => void act('POST', '/resume');
  el<HTMLFormElement>('rate-form').onsubmit = (event) => {
    event.preventDefault();
    const field = (id: string) => el<HTMLInputElement>(id).value.trim();
    // Typed values go to the server as given where they are not numbers: it checks them as it
    // checks `pnpm ctl`'s, and its message says what is wrong.
    const numberOr = (raw: string) =>
      raw !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
    const body: Record<string, unknown> = {
      messages: numberOr(field('rate-messages')),
      period: numberOr(field('rate-period') || '1s'),
    };
    if (field('rate-burst') !== '') body.burst = numberOr(field('rate-burst'));
    void act('PUT', '/rate', body);
  };
  setUpReplay(token, signedOut);
}

/** A replay moves records: the page shows what a dry run counts first and asks to go on. */
function setUpReplay(token: string, signedOut: (error: unknown) => boolean): void {
  // A replay reads the whole dead-letter topic: give it longer than a status read.
  const replay = (dryRun: boolean) =>
    call<ReplayAnswer>(token, 'POST', '/replay', { dryRun }, 120_000);
  const buttons = ['replay', 'replay-go', 'replay-cancel'].map((id) => el<HTMLButtonElement>(id));
  const busy = (on: boolean) => {
    for (const button of buttons) button.disabled = on;
  };
  const attempt = async (work: () => Promise<void>) => {
    text('replay-error', '');
    busy(true);
    try {
      await work();
    } catch (error) {
      el('replay-confirm').hidden = true;
      text('replay-result', '');
      if (!signedOut(error))
        text('replay-error', error instanceof Error ? error.message : String(error));
    } finally {
      busy(false);
    }
  };
  el('replay').onclick = () =>
    void attempt(async () => {
      text('replay-result', 'Counting…');
      const dry = await replay(true);
      text('replay-result', '');
      text('replay-count', String(dry.moved));
      el('replay-confirm').hidden = false;
    });
  el('replay-cancel').onclick = () => {
    el('replay-confirm').hidden = true;
  };
  el('replay-go').onclick = () =>
    void attempt(async () => {
      el('replay-confirm').hidden = true;
      text('replay-result', 'Moving…');
      const done = await replay(false);
      text('replay-result', `Moved ${done.moved} back into the request topic.`);
      el('replay-result').dataset.moved = String(done.moved);
    });
}

function showLogin(message: string): void {
  el('dash').hidden = true;
  el('banner').hidden = true;
  el('login').hidden = false;
  text('login-error', message);
}

async function open(token: string): Promise<void> {
  try {
    await call<Status>(token, 'GET', '/history');
  } catch (error) {
    if (error instanceof HttpError && error.status === 401) {
      sessionStorage.removeItem(TOKEN_KEY);
      showLogin('Wrong token: the admin API refused it.');
      return;
    }
    // Anything else: the token may be right; the banner will say what is wrong.
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  el('login').hidden = true;
  run(token);
}

el<HTMLFormElement>('login').onsubmit = (event) => {
  event.preventDefault();
  const input = el<HTMLInputElement>('token');
  const token = input.value;
  input.value = '';
  void open(token);
};
const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved === null) showLogin('');
else void open(saved);
