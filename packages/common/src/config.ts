import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import convict from 'convict';
import { crossKeyProblems } from './config-cross-checks.ts';
import { type ConfigKey, configSchema, type KeySpec } from './config-schema.ts';
import { CommonError, ConfigError } from './errors.ts';
import { defaultRateGuard } from './rate-guard.ts';
import { splitSigningSecrets } from './sink-auth.ts';

export type SinkType = 'log' | 'http';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** The validated configuration. Durations are milliseconds. */
export interface Config {
  kafka: {
    brokers: string[];
    clientId: string;
    topic: string;
    partitions: number;
    replicationFactor: number;
  };
  ingest: {
    host: string;
    port: number;
    maxBodyBytes: number;
    ackTimeout: number;
    linger: number;
    maxBatchMessages: number;
    maxBatchBytes: number;
    headersTimeout: number;
    requestTimeout: number;
    maxConnections: number;
    idempotencyWindow: number;
    idempotencyMaxKeys: number;
    shutdownTimeout: number;
    /** Processes serving the port; 'auto' is resolved by the process (available CPUs). */
    workers: number | 'auto';
  };
  drain: { group: string; host: string; port: number; shutdownTimeout: number };
  rate: {
    messages: number;
    period: number;
    burst: number;
    /** The guard for `period`: `rate.margin`, or its default for that period. */
    margin: number;
    /** `rate.margin` when set: a rate changed at run time keeps it (see rate-guard.ts). */
    configuredMargin?: number;
  };
  sink: {
    type: SinkType;
    url: string | undefined;
    /** Sent with every delivery; validated, sensitive. */
    headers: Readonly<Record<string, string>>;
    /** `whsec_…` secrets; every attempt is signed with each. Empty: unsigned. */
    signingSecret: readonly string[];
    timeout: number;
    maxAttempts: number;
    backoffBase: number;
    backoffMax: number;
    breakerRecords: number;
  };
  dlq: { topic: string };
  /** `token` undefined: no admin server. */
  admin: { host: string; port: number; token: string | undefined };
  log: { level: LogLevel };
}

export interface LoadConfigOptions {
  /** Environment variables, usually `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Command-line arguments (`--rate.messages=10`), usually `process.argv.slice(2)`. */
  args?: readonly string[];
  /** Where `default.json` and `<NODE_ENV>.json` live; the repository's `config/` by default. */
  configDir?: string;
}

export const defaultConfigDir = fileURLToPath(new URL('../../../config/', import.meta.url));

const FORMAT_PREFIX = 'kafka-throttle:';
const NODE_ENV_NAME = /^[A-Za-z0-9_-]+$/;
let formatsRegistered = false;

/**
 * Loads configuration from, later winning: `config/default.json`, `config/<NODE_ENV>.json`, the
 * file named by `CONFIG_FILE`, environment variables, `--key=value` arguments.
 * Throws a ConfigError listing every bad key, its value and what was expected.
 */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? {};
  const args = options.args ?? [];
  const configDir = options.configDir ?? defaultConfigDir;
  registerFormats();

  const problems = unknownArguments(args);
  const conf = convict(convictSchema(), { env: { ...env }, args: [...args] });
  for (const file of configFiles(configDir, env)) {
    if (!existsSync(file.path)) {
      if (file.required) problems.push(`CONFIG_FILE: no such file, got "${file.path}"`);
      continue;
    }
    try {
      conf.loadFile(file.path);
    } catch (error) {
      problems.push(`${file.label}: ${file.path} is not valid JSON (${messageOf(error)})`);
    }
  }
  try {
    conf.validate({ allowed: 'strict' });
  } catch (error) {
    problems.push(...messageOf(error).split('\n').map(readableProblem));
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const get = (key: ConfigKey): unknown => conf.get(key as never);
  const config = toConfig(conf.getProperties() as unknown as LoadedValues);
  const crossProblems = crossKeyProblems(config, get);
  if (crossProblems.length > 0) throw new ConfigError(crossProblems);
  return config;
}

function configFiles(
  configDir: string,
  env: Readonly<Record<string, string | undefined>>,
): { path: string; label: string; required: boolean }[] {
  const files = [{ path: join(configDir, 'default.json'), label: 'config', required: false }];
  if (env.NODE_ENV) {
    // A name, not a path: NODE_ENV=../../x must not load a file outside the config folder.
    if (!NODE_ENV_NAME.test(env.NODE_ENV)) {
      throw new ConfigError([
        `NODE_ENV: must be a name of letters, digits, "-" or "_" (a file in config/), got ${JSON.stringify(env.NODE_ENV)}`,
      ]);
    }
    files.push({
      path: join(configDir, `${env.NODE_ENV}.json`),
      label: 'config',
      required: false,
    });
  }
  if (env.CONFIG_FILE) files.push({ path: env.CONFIG_FILE, label: 'CONFIG_FILE', required: true });
  return files;
}

/**
 * The validated values as convict holds them: the schema's sections, where a key whose default
 * is null (derived from another key when unset) may still be null.
 */
interface LoadedValues extends Pick<Config, 'kafka' | 'ingest' | 'drain' | 'log'> {
  rate: Omit<Config['rate'], 'burst' | 'margin' | 'configuredMargin'> & {
    burst: number | null;
    margin: number | null;
  };
  sink: Omit<Config['sink'], 'url' | 'signingSecret'> & {
    url: string | null;
    signingSecret: unknown;
  };
  dlq: { topic: string | null };
  admin: Omit<Config['admin'], 'token'> & { token: string | null };
}

function toConfig(values: LoadedValues): Config {
  const { kafka, rate, sink, dlq, admin } = values;
  const configuredMargin = rate.margin ?? undefined;
  return {
    kafka,
    ingest: values.ingest,
    drain: values.drain,
    rate: {
      ...rate,
      burst: rate.burst ?? rate.messages,
      margin: configuredMargin ?? defaultRateGuard(rate.period),
      ...(configuredMargin === undefined ? {} : { configuredMargin }),
    },
    sink: {
      ...sink,
      url: sink.url ?? undefined,
      signingSecret: splitSigningSecrets(sink.signingSecret),
    },
    dlq: { topic: dlq.topic ?? `${kafka.topic}.dlq` },
    admin: { ...admin, token: admin.token ?? undefined },
    log: values.log,
  };
}

function convictSchema(): convict.Schema<Record<string, unknown>> {
  const schema: Record<string, Record<string, unknown>> = {};
  for (const [key, spec] of Object.entries(configSchema) as [ConfigKey, KeySpec][]) {
    const [group, name] = key.split('.') as [string, string];
    schema[group] ??= {};
    schema[group][name] = {
      doc: spec.doc,
      format: FORMAT_PREFIX + key,
      default: spec.default,
      env: spec.env,
      arg: key,
      nullable: spec.default === null,
      sensitive: spec.sensitive === true,
    };
  }
  return schema as convict.Schema<Record<string, unknown>>;
}

// convict keeps formats in a process-wide registry; the names are ours alone, so once is enough.
function registerFormats(): void {
  if (formatsRegistered) return;
  formatsRegistered = true;
  for (const [key, spec] of Object.entries(configSchema) as [ConfigKey, KeySpec][]) {
    convict.addFormat({
      name: FORMAT_PREFIX + key,
      coerce: (value: unknown) =>
        typeof value === 'string' && spec.coerce ? spec.coerce(value) : value,
      validate: (value: unknown) => {
        if (!spec.valid(value)) {
          throw new CommonError(
            'invalid_config',
            `must be ${spec.expected}, got ${shown(spec, value)}`,
          );
        }
      },
    });
  }
}

function shown(spec: KeySpec, value: unknown): string {
  if (spec.sensitive) return 'a value not shown (sensitive)';
  return spec.shown ? spec.shown(value) : JSON.stringify(value);
}

const KNOWN_ARGS = new Set<string>(Object.keys(configSchema));

function unknownArguments(args: readonly string[]): string[] {
  return args
    .filter((arg) => arg.startsWith('--'))
    .map((arg) => arg.slice(2).split('=')[0] as string)
    .filter((name) => !KNOWN_ARGS.has(name))
    .map((name) => `--${name}: unknown option, expected one of the configuration keys`);
}

// convict words its lines as "key: message: value was …" and "configuration param 'x' not
// declared in the schema"; the value is already in our message, so the suffix only repeats it.
function readableProblem(line: string): string {
  const undeclared = /^configuration param '(.+)' not declared in the schema$/.exec(line);
  if (undeclared) return `${undeclared[1]}: unknown key, not in the configuration schema`;
  return line.replace(/: value was .*$/, '');
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
