// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Compose interpolation syntax is what these strings test
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { type ComposeCheckInput, checkCompose, interpolateDefaults } from './compose-check.ts';
import { kafkaVersion } from './kafka/broker.ts';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../', import.meta.url));
const read = (name: string): string => readFileSync(join(root, name), 'utf8');

type Doc = {
  services: Record<string, Record<string, unknown> & { environment: Record<string, unknown> }>;
};

function realInput(): ComposeCheckInput {
  return {
    composeText: read('docker-compose.yml'),
    dockerfileText: read('Dockerfile'),
    dockerignoreText: read('.dockerignore'),
    kafkaVersion: kafkaVersion(),
    pnpmVersion: '10.34.9',
    // The check looks for each service's compiled main.js; answering "there" keeps this file's
    // cases about the compose document alone, built or not.
    exists: () => true,
  };
}

/** The real compose file, changed by `edit`. */
function brokenCompose(edit: (doc: Doc) => void): ComposeCheckInput {
  const input = realInput();
  const doc = parse(input.composeText, { merge: true }) as Doc;
  edit(doc);
  return { ...input, composeText: stringify(doc) };
}

function brokenDockerfile(from: string | RegExp, to: string): ComposeCheckInput {
  const input = realInput();
  const dockerfileText = input.dockerfileText.replace(from, to);
  expect(dockerfileText).not.toBe(input.dockerfileText);
  return { ...input, dockerfileText };
}

describe('checkCompose', () => {
  it('passes the repository docker-compose.yml, Dockerfile and .dockerignore', () => {
    // Without a build at hand, an entry point is there when the source it is compiled from is;
    // `pnpm compose:check` after `pnpm build` (in `pnpm test`) checks the compiled files.
    const report = checkCompose({
      ...realInput(),
      exists: (p) => existsSync(join(root, p.replace(/\/dist\/(.*)\.js$/, '/src/$1.ts'))),
    });
    expect(report.problems).toEqual([]);
    expect(report.passed.length).toBeGreaterThanOrEqual(25);
    expect(report.passed).toContain(
      'docker-compose.yml matches the Compose Specification JSON schema',
    );
  });

  it.each<[string, ComposeCheckInput, RegExp]>([
    ['not YAML', { ...realInput(), composeText: 'services: [\n' }, /is not valid YAML/],
    [
      'a key the Compose Specification does not have',
      brokenCompose((d) => {
        (d.services.drain as Record<string, unknown>).replicas = 3;
      }),
      /does not match the Compose Specification:\n.*services\.drain: must NOT have additional properties "replicas"/,
    ],
    [
      'a value of the wrong type',
      brokenCompose((d) => {
        (d.services.ingest as Record<string, unknown>).init = 'yes';
      }),
      /services\.ingest\.init: must be boolean/,
    ],
    [
      'another Kafka than the local broker',
      brokenCompose((d) => {
        (d.services.kafka as Record<string, unknown>).image = 'apache/kafka:3.9.0';
      }),
      /services\.kafka\.image: expected "apache\/kafka:\d+\.\d+\.\d+" .*got "apache\/kafka:3\.9\.0"/,
    ],
    [
      'a drain that publishes a host port',
      brokenCompose((d) => {
        (d.services.drain as Record<string, unknown>).ports = ['8081:8081'];
      }),
      /services\.drain\.ports: drain must publish no host port/,
    ],
    [
      'a drain with a fixed container name',
      brokenCompose((d) => {
        (d.services.drain as Record<string, unknown>).container_name = 'drain';
      }),
      /services\.drain: container_name and hostname must not be set/,
    ],
    [
      'a variable that is not a configuration key',
      brokenCompose((d) => {
        d.services.drain!.environment.RATE_LIMIT = '5';
      }),
      /services\.drain\.environment: "RATE_LIMIT" is not in the configuration schema/,
    ],
    [
      'an invalid default value',
      brokenCompose((d) => {
        d.services.drain!.environment.RATE_MESSAGES = '${RATE_MESSAGES:-zero}';
      }),
      /services\.drain\.environment is not a valid configuration:\n.*rate\.messages: must be a positive integer, got "zero"/,
    ],
    [
      'an http sink without a URL',
      brokenCompose((d) => {
        d.services.drain!.environment.SINK = 'http';
      }),
      /sink\.url: must be .* when sink\.type is "http"/,
    ],
    [
      'starting before Kafka is healthy',
      brokenCompose((d) => {
        (d.services.ingest as Record<string, unknown>).depends_on = ['kafka'];
      }),
      /services\.ingest\.depends_on\.kafka\.condition: expected "service_healthy"/,
    ],
    [
      'a Kafka without healthcheck',
      brokenCompose((d) => {
        delete (d.services.kafka as Record<string, unknown>).healthcheck;
      }),
      /services\.kafka\.healthcheck: missing/,
    ],
    [
      'a missing service',
      brokenCompose((d) => {
        delete (d.services as Record<string, unknown>).drain;
      }),
      /services\.drain: missing/,
    ],
    [
      'a build target the Dockerfile lacks',
      brokenCompose((d) => {
        (d.services.drain as Record<string, unknown>).build = { context: '.', target: 'prod' };
      }),
      /services\.drain\.build\.target: expected a stage of the Dockerfile \(base, deps, build, runtime\), got "prod"/,
    ],
    [
      'ingest publishing another port than INGEST_PORT',
      brokenCompose((d) => {
        (d.services.ingest as Record<string, unknown>).ports = ['8080:9090'];
      }),
      /services\.ingest\.ports: expected a mapping to container port 8080/,
    ],
    [
      'a command that runs no service',
      brokenCompose((d) => {
        (d.services.drain as Record<string, unknown>).command = ['packages/drain/src/main.ts'];
      }),
      /services\.drain\.command: expected \["packages\/drain\/dist\/main\.js"\]/,
    ],
    [
      'an image that runs TypeScript through tsx',
      brokenDockerfile(
        'ENTRYPOINT ["node", "--conditions=compiled", "--enable-source-maps"]',
        'ENTRYPOINT ["node", "--import", "tsx"]',
      ),
      /expected an ENTRYPOINT that runs node without tsx[\s\S]*needs --conditions=compiled/,
    ],
    [
      'an image without the compiled code of a package',
      brokenDockerfile(/^COPY --from=build \/app\/packages\/common\/dist.*\n/m, ''),
      /expected a COPY of packages\/common\/dist/,
    ],
    [
      'a root runtime user',
      brokenDockerfile(/^USER node$/m, 'USER root'),
      /expected a USER that is not root, got root/,
    ],
    [
      'no HEALTHCHECK',
      brokenDockerfile(/^HEALTHCHECK[\s\S]*?\n(?=ENTRYPOINT)/m, ''),
      /expected a HEALTHCHECK that requests \/healthz/,
    ],
    [
      'copying from a stage that does not exist',
      brokenDockerfile('COPY --from=build', 'COPY --from=builder'),
      /COPY --from=builder names no earlier stage/,
    ],
    [
      'another pnpm than package.json',
      brokenDockerfile(/PNPM_VERSION=\S+/, 'PNPM_VERSION=9.0.0'),
      /ARG PNPM_VERSION must be 10\.34\.9/,
    ],
    [
      'dev dependencies in the image',
      brokenDockerfile('--frozen-lockfile --prod', '--frozen-lockfile'),
      /expected `pnpm install --frozen-lockfile --prod`/,
    ],
    [
      'a build context with the local Kafka data',
      { ...realInput(), dockerignoreText: '**/node_modules\n.git\n' },
      /\.dockerignore: missing \.kafka, scripts\/kafka\/\.jars/,
    ],
  ])('fails on %s', (_, input, problem) => {
    const report = checkCompose(input);
    expect(report.problems.join('\n')).toMatch(problem);
  });

  it('fails when a service entry point was not built', () => {
    const report = checkCompose({ ...realInput(), exists: (p) => !p.includes('drain') });
    expect(report.problems).toEqual([
      'services.drain.command: packages/drain/dist/main.js does not exist; `pnpm build` compiles it from packages/drain/src/main.ts (run it first)',
    ]);
  });
});

describe('interpolateDefaults', () => {
  it('fills in what Compose would with no variable set', () => {
    expect(interpolateDefaults('${RATE:-5}')).toBe('5');
    expect(interpolateDefaults('${RATE-5s}/x')).toBe('5s/x');
    expect(interpolateDefaults('${SINK_URL:-}')).toBe('');
    expect(interpolateDefaults('a${B}c$D')).toBe('ac');
    expect(interpolateDefaults('${X:?must be set}')).toBe('');
    expect(interpolateDefaults('$$HOME')).toBe('$HOME');
  });
});

describe('pnpm compose:check', () => {
  it('exits 1 and names the problem for a broken compose file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'compose-check-'));
    try {
      const broken = brokenCompose((d) => {
        (d.services.drain as Record<string, unknown>).ports = ['8081:8081'];
      });
      const file = join(dir, 'docker-compose.yml');
      await writeFile(file, broken.composeText);
      const failure = await run(process.execPath, [
        '--import',
        'tsx',
        join(root, 'scripts/compose-check.ts'),
        '--compose',
        file,
      ]).then(
        () => undefined,
        (error: { code: number; stdout: string }) => error,
      );
      expect(failure?.code).toBe(1);
      expect(failure?.stdout).toMatch(
        /FAIL {2}services\.drain\.ports: drain must publish no host port/,
      );
      expect(failure?.stdout).toMatch(/\d+ checks passed, 1 failed/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
