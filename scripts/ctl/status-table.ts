/** The admin API's answers, as `pnpm ctl` prints them for a person. */

interface ControlView {
  changed?: boolean;
  state: {
    paused: boolean;
    version: number;
    changedAt: string | null;
    reason: string;
    source: string;
  };
  rate: { messages: number; period: string; burst: number };
  hold: { active: boolean; until: string; reason: string; by: string } | null;
}

interface StatusView extends ControlView {
  backlog: number;
  partitions: {
    partition: number;
    endOffset: number;
    committedOffset: number | null;
    backlog: number;
    oldestWaitingAgeMs: number | null;
  }[];
  group: {
    id: string;
    state: string;
    members: { clientId: string; host: string; partitions: number[]; share: number }[];
  };
  deadLetter: { topic: string; depth: number };
  breakers: { worker: string; reason: string; since: string }[];
}

/** The control part: state, rate and hold, one line each. */
export function formatControl(view: ControlView): string {
  const { state, rate, hold } = view;
  const since = state.changedAt ? ` since ${state.changedAt}` : ' (from the configuration)';
  const lines = [
    [
      'state',
      `${state.paused ? 'PAUSED' : 'running'}, version ${state.version}${since}: ${state.reason}`,
    ],
    ['rate', `${rate.messages} per ${rate.period}, burst ${rate.burst}`],
    [
      'hold',
      hold === null
        ? 'none'
        : `${hold.active ? 'until' : 'ended'} ${hold.until} (${hold.reason}, by ${hold.by})`,
    ],
  ];
  if (view.changed !== undefined)
    lines.push(['changed', view.changed ? 'yes' : 'no: it already was so']);
  return table(lines);
}

export function formatStatus(view: StatusView): string {
  const partitions = table([
    ['partition', 'end offset', 'committed', 'backlog', 'oldest waiting'],
    ...view.partitions.map((p) => [
      String(p.partition),
      String(p.endOffset),
      p.committedOffset === null ? '-' : String(p.committedOffset),
      String(p.backlog),
      p.oldestWaitingAgeMs === null ? '-' : age(p.oldestWaitingAgeMs),
    ]),
  ]);
  const members = view.group.members.length
    ? table([
        ['worker', 'host', 'partitions', 'share'],
        ...view.group.members.map((m) => [
          m.clientId,
          m.host,
          m.partitions.join(',') || '-',
          `${m.share}/${view.rate.period}`,
        ]),
      ])
    : 'no worker in the group';
  return [
    formatControl(view),
    table([
      ['backlog', `${view.backlog} waiting`],
      ['dead letters', `${view.deadLetter.depth} in ${view.deadLetter.topic}`],
      [
        'breakers',
        (view.breakers ?? []).length === 0
          ? 'all closed'
          : view.breakers
              .map((b) => `OPEN in ${b.worker} since ${b.since}: ${b.reason}`)
              .join('; '),
      ],
    ]),
    partitions,
    `workers of ${view.group.id} (${view.group.state}):`,
    members,
  ].join('\n\n');
}

function age(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)}s`;
  if (ms < 7_200_000) return `${(ms / 60_000).toFixed(1)}m`;
  return `${(ms / 3_600_000).toFixed(1)}h`;
}

function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows
    .map((row) =>
      row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  '),
    )
    .join('\n');
}

export type { ControlView, StatusView };
