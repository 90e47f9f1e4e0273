// `npm start` and `npm test` run this first. It needs only Node and npm: on a machine with Node,
// npm, Java and Maven and nothing else, it brings what the project needs, then runs the command
// given after it:
//   1. pnpm, the version pinned in package.json's "packageManager" (corepack cannot verify pnpm's
//      signature on every machine, so npm installs it: `npm install --global pnpm@<version>`);
//   2. the dependencies, `pnpm install --frozen-lockfile`, when node_modules is missing or was
//      installed from another lockfile;
//   3. Apache Kafka's jars (`pnpm kafka:fetch`, Maven) when they are missing.
// Each step is skipped when there is nothing to do, so a set-up checkout starts at once.
// Plain JavaScript on purpose: it runs before the TypeScript tooling is installed.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const [command, ...commandArgs] = process.argv.slice(2);
if (!command) {
  fail('usage: node scripts/bootstrap.mjs <command> [args...]');
}

process.stdout.on('error', () => {});
const say = (text) => process.stdout.write(`[setup]  ${text}\n`);

const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const pnpmVersion = /^pnpm@([^+]+)/.exec(manifest.packageManager ?? '')?.[1];
if (!pnpmVersion) fail('package.json has no "packageManager": "pnpm@<version>"');

const pnpm = ensurePnpm(pnpmVersion);
const env = { ...process.env, PATH: [pnpm.dir, process.env.PATH].filter(Boolean).join(delimiter) };
ensureDependencies(pnpm.bin, env);
ensureKafkaJars(pnpm.bin, env);
run(
  command === 'pnpm' ? pnpm.bin : command === 'node' ? process.execPath : command,
  commandArgs,
  env,
);

/** The pinned pnpm: the one on PATH, the one in npm's global folder, or one npm installs there. */
function ensurePnpm(version) {
  if (versionOf('pnpm') === version) return { bin: 'pnpm', dir: undefined };
  const globalBin = npmGlobalBin();
  const installed = globalBin && join(globalBin, 'pnpm');
  if (installed && versionOf(installed) === version) return { bin: installed, dir: globalBin };

  const found = versionOf('pnpm');
  say(
    `${found ? `pnpm ${found} is not the pinned version` : 'pnpm is not installed'}; installing pnpm ${version}: npm install --global pnpm@${version}`,
  );
  const result = spawnSync(
    'npm',
    ['install', '--global', '--no-fund', '--no-audit', '--no-update-notifier', `pnpm@${version}`],
    { stdio: 'inherit' },
  );
  const bin = npmGlobalBin();
  const pnpmBin = bin && join(bin, 'pnpm');
  if (result.status !== 0 || !pnpmBin || versionOf(pnpmBin) !== version) {
    fail(
      `could not install pnpm ${version} with npm (exit ${result.status ?? result.error?.message}). If npm lacked permission for its global folder, run "sudo npm install --global pnpm@${version}" or give npm a folder of your own ("npm config set prefix ~/.local"), then run this command again.`,
    );
  }
  say(`pnpm ${version} is installed in ${bin}`);
  return { bin: pnpmBin, dir: bin };
}

function ensureDependencies(pnpmBin, env) {
  const lockfile = join(root, 'pnpm-lock.yaml');
  // pnpm keeps a copy of the lockfile it installed from; equal means node_modules is current.
  const installedFrom = join(root, 'node_modules', '.pnpm', 'lock.yaml');
  const current =
    existsSync(join(root, 'node_modules', '.modules.yaml')) &&
    existsSync(installedFrom) &&
    readFileSync(installedFrom, 'utf8') === readFileSync(lockfile, 'utf8');
  if (current) return;
  say('installing dependencies: pnpm install --frozen-lockfile');
  const result = spawnSync(pnpmBin, ['install', '--frozen-lockfile'], {
    cwd: root,
    env,
    stdio: 'inherit',
  });
  if (result.status !== 0) fail(`pnpm install --frozen-lockfile failed (exit ${result.status})`);
}

function ensureKafkaJars(pnpmBin, env) {
  const pom = readFileSync(join(root, 'scripts', 'kafka', 'pom.xml'), 'utf8');
  const version = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom)?.[1];
  const jars = join(root, 'scripts', 'kafka', '.jars');
  if (existsSync(jars) && readdirSync(jars).includes(`kafka_2.13-${version}.jar`)) return;
  if (versionOf('mvn', ['--version']) === undefined) {
    fail(
      'Maven (mvn) is needed once to fetch Apache Kafka from Maven Central: install it, then run this command again',
    );
  }
  say(`fetching Apache Kafka ${version} with Maven: pnpm kafka:fetch`);
  const result = spawnSync(pnpmBin, ['--silent', 'run', 'kafka:fetch'], {
    cwd: root,
    env,
    stdio: 'inherit',
  });
  if (result.status !== 0) fail(`pnpm kafka:fetch failed (exit ${result.status})`);
}

/** Runs the command in the foreground and ends as it ends. */
function run(bin, args, env) {
  const child = spawn(bin, args, { cwd: root, env, stdio: 'inherit' });
  // A terminal's Ctrl-C or hang-up reaches the child too; a signal sent to this process alone
  // (npm forwards SIGINT and SIGTERM to it) is passed on. The child decides when to end.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    });
  }
  child.once('error', (error) => fail(`could not run ${bin}: ${error.message}`));
  child.once('exit', (code, signal) => {
    process.exit(code ?? (signal === 'SIGINT' ? 130 : 1));
  });
}

function versionOf(bin, args = ['--version']) {
  const result = spawnSync(bin, args, { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim().split('\n')[0] : undefined;
}

function npmGlobalBin() {
  const result = spawnSync('npm', ['prefix', '--global'], { encoding: 'utf8' });
  const prefix = result.status === 0 ? result.stdout.trim() : '';
  return prefix ? join(prefix, 'bin') : undefined;
}

function fail(message) {
  process.stderr.write(`[setup]  ${message}\n`);
  process.exit(1);
}
