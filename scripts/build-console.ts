/**
 * Builds the console (web/, its own npm package) into web/dist, which the admin listener serves at
 * /console/. Installs web/'s dependencies with `npm ci` when web/node_modules is missing or was
 * installed from another web/package-lock.json, and builds when web/dist is missing or older than any
 * source file of web/. `npm start` and `npm test` call it; `npm run console:build` runs it by hand
 * (`-- --force` rebuilds anyway).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
export const WEB = join(ROOT, 'web');
const LOCK = join(WEB, 'package-lock.json');
const INSTALLED_LOCK = join(WEB, 'node_modules', '.mlog-package-lock.sha256');
const BUILT = join(WEB, 'dist', 'index.html');
const SOURCES = ['src', 'public', 'index.html', 'vite.config.ts', 'tsconfig.json', 'package.json', 'package-lock.json'];

function lockHash(): string {
  return createHash('sha256').update(readFileSync(LOCK)).digest('hex');
}

function newestSource(path: string): { path: string; mtimeMs: number } | undefined {
  if (!existsSync(path)) return undefined;
  const stat = statSync(path);
  if (!stat.isDirectory()) return { path, mtimeMs: stat.mtimeMs };
  let newest: { path: string; mtimeMs: number } | undefined;
  for (const name of readdirSync(path)) {
    const found = newestSource(join(path, name));
    if (found !== undefined && (newest === undefined || found.mtimeMs > newest.mtimeMs)) newest = found;
  }
  return newest;
}

function run(command: string, args: string[], log: (line: string) => void): Promise<void> {
  log(`  $ (cd web && ${command} ${args.join(' ')})`);
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, args, { cwd: WEB, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, FORCE_COLOR: '0' } });
    child.on('error', reject);
    child.on('exit', (code, signal) =>
      code === 0 ? resolveRun() : reject(new Error(`\`${command} ${args.join(' ')}\` in web/ failed (${signal ?? `exit code ${code}`}).`)),
    );
  });
}

/** Why web/ needs `npm ci`, or undefined when web/node_modules matches web/package-lock.json. */
export function installReason(): string | undefined {
  if (!existsSync(join(WEB, 'node_modules'))) return 'web/node_modules is missing';
  if (!existsSync(INSTALLED_LOCK)) return 'web/node_modules was not installed by this script';
  if (readFileSync(INSTALLED_LOCK, 'utf8').trim() !== lockHash()) return 'web/package-lock.json changed since the last install';
  return undefined;
}

/** Why web/dist must be built, or undefined when it is newer than every source file of web/. */
export function buildReason(): string | undefined {
  if (!existsSync(BUILT)) return 'web/dist is missing';
  const built = statSync(BUILT).mtimeMs;
  for (const name of SOURCES) {
    const newest = newestSource(join(WEB, name));
    if (newest !== undefined && newest.mtimeMs > built) return `${newest.path.slice(ROOT.length + 1)} is newer than web/dist`;
  }
  return undefined;
}

/** Installs and builds what is missing or stale, printing each step; resolves once web/dist is current. */
export async function ensureConsoleBuilt(options: { force?: boolean; log?: (line: string) => void } = {}): Promise<void> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const install = installReason();
  if (install !== undefined) {
    log(`Console: installing web/'s dependencies (${install})…`);
    await run('npm', ['ci', '--no-audit', '--no-fund'], log);
    writeFileSync(INSTALLED_LOCK, `${lockHash()}\n`);
  }
  const build = options.force === true ? 'asked with --force' : install !== undefined ? 'its dependencies were installed' : buildReason();
  if (build === undefined) {
    log('Console: web/dist is up to date.');
    return;
  }
  log(`Console: building web/dist (${build})…`);
  const started = Date.now();
  await run('npm', ['run', 'build'], log);
  log(`Console: built in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  ensureConsoleBuilt({ force: process.argv.includes('--force') }).catch((error: unknown) => {
    process.stderr.write(`The console could not be built: ${(error as Error).message}\n`);
    process.exit(1);
  });
}
