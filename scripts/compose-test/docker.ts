import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

/**
 * The Docker side of the compose test: `docker compose` on the project's own docker-compose.yml,
 * with only the base images substituted (run.sh made them and names them in the environment).
 */

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const docker = process.env.DOCKER_CLI ?? '/usr/bin/docker';

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the Docker CLI; resolves with its exit code and output (no throw on a non-zero code). */
export function dockerCli(
  args: readonly string[],
  env: Record<string, string> = {},
  timeoutMs = 600_000,
): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      docker,
      [...args],
      {
        cwd: repoRoot,
        env: { ...process.env, ...env },
        maxBuffer: 64 * 1024 * 1024,
        timeout: timeoutMs,
        killSignal: 'SIGKILL',
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr: error && code === 1 && !stderr ? String(error) : stderr });
      },
    );
  });
}

/** The compose project under test: the repository's docker-compose.yml and variables. */
export interface ComposeProject {
  /** `docker compose ARGS` with the project's variables plus `env`; throws on failure. */
  run(args: readonly string[], env?: Record<string, string>, timeoutMs?: number): Promise<string>;
  /** The same, returning the exit code instead of throwing. */
  tryRun(args: readonly string[], env?: Record<string, string>, timeoutMs?: number): Promise<Run>;
  /** Ids of the service's containers, running or not, in replica order. */
  containers(service: string): Promise<string[]>;
  /** `docker inspect` of one container. */
  inspect(id: string): Promise<ContainerState>;
  /** Every line the service's containers printed, each with its replica number. */
  logs(service: string): Promise<{ replica: number; line: string }[]>;
}

export interface ContainerState {
  name: string;
  status: string;
  exitCode: number;
  restartCount: number;
  health: string | undefined;
  user: string;
}

export function composeProject(variables: Record<string, string>): ComposeProject {
  const base = ['compose', '-f', 'docker-compose.yml', '--project-directory', repoRoot];
  const tryRun = (args: readonly string[], env: Record<string, string> = {}, timeoutMs?: number) =>
    dockerCli([...base, ...args], { ...variables, ...env }, timeoutMs);
  const run = async (
    args: readonly string[],
    env: Record<string, string> = {},
    timeoutMs?: number,
  ): Promise<string> => {
    const result = await tryRun(args, env, timeoutMs);
    if (result.code !== 0) {
      throw new Error(
        `docker compose ${args.join(' ')} exited ${result.code}:\n${result.stderr.slice(-4000)}`,
      );
    }
    return result.stdout;
  };
  return {
    run,
    tryRun,
    async containers(service) {
      const ids = (await run(['ps', '--all', '--quiet', service])).split('\n').filter(Boolean);
      const withNumber = await Promise.all(
        ids.map(async (id) => {
          const label = await dockerCli([
            'inspect',
            '--format',
            '{{index .Config.Labels "com.docker.compose.container-number"}}',
            id,
          ]);
          return { id, number: Number(label.stdout.trim()) };
        }),
      );
      return withNumber.sort((a, b) => a.number - b.number).map((c) => c.id);
    },
    async inspect(id) {
      const result = await dockerCli(['inspect', id]);
      if (result.code !== 0) throw new Error(`docker inspect ${id}: ${result.stderr}`);
      const [state] = JSON.parse(result.stdout) as [
        {
          Name: string;
          RestartCount: number;
          Config: { User: string };
          State: { Status: string; ExitCode: number; Health?: { Status: string } };
        },
      ];
      return {
        name: state.Name.replace(/^\//, ''),
        status: state.State.Status,
        exitCode: state.State.ExitCode,
        restartCount: state.RestartCount,
        health: state.State.Health?.Status,
        user: state.Config.User,
      };
    },
    async logs(service) {
      const text = await run(['logs', '--no-color', service]);
      return text
        .split('\n')
        .filter(Boolean)
        .map((raw) => {
          // "<project>-drain-2  | {json}"
          const match = /^\S+?-(\d+)\s+\| ?(.*)$/.exec(raw);
          return { replica: Number(match?.[1] ?? 0), line: match?.[2] ?? raw };
        });
    },
  };
}

/** A port in `from`..`to` on 127.0.0.1 that nothing listens on right now. */
export async function freePortIn(from: number, to: number): Promise<number> {
  for (let port = from; port <= to; port++) {
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error(`no free port on 127.0.0.1 between ${from} and ${to}`);
}
