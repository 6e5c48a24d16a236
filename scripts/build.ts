/**
 * `npm run build`: compiles MLog to JavaScript in dist/ (tsconfig.build.json: ESM with source maps,
 * src/x.ts → dist/x.js), and compiles each peggy grammar of src/ into a module beside the code that
 * uses it (src/search/query-language.peggy → dist/search/query-language.peggy.js), so `node
 * dist/main.js` and bin/mlog.js need neither a TypeScript loader nor the source tree at run time.
 * dist/ keeps src/'s depth under the repository, so index-templates/ and web/dist are found from it
 * as from src/. `npm start` calls ensureBuilt(), which builds only when dist/ is missing or stale.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import peggy from 'peggy';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const SRC = join(ROOT, 'src');
export const DIST = join(ROOT, 'dist');
/** Written last by a build that succeeded: its time is the build's. */
export const DIST_MAIN = join(DIST, 'main.js');
/** Besides src/, the files whose change makes dist/ stale. */
const BUILD_INPUTS = ['tsconfig.json', 'tsconfig.build.json', 'package.json'];

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? files(path) : [path];
  });
}

/** Why dist/ must be built, or undefined when dist/main.js is newer than every source of the build. */
export function buildReason(): string | undefined {
  if (!existsSync(DIST_MAIN)) return 'dist/main.js is missing';
  const built = statSync(DIST_MAIN).mtimeMs;
  for (const path of [...files(SRC), ...BUILD_INPUTS.map((name) => join(ROOT, name))]) {
    if (statSync(path).mtimeMs > built) return `${relative(ROOT, path)} is newer than dist/`;
  }
  return undefined;
}

function compileTypeScript(): Promise<void> {
  // The compiler of the project's own typescript package (TypeScript 7, native), found through npm's .bin.
  const tsc = join(ROOT, 'node_modules', '.bin', 'tsc');
  return new Promise((resolveRun, reject) => {
    const child = spawn(tsc, ['-p', join(ROOT, 'tsconfig.build.json')], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code, signal) => (code === 0 ? resolveRun() : reject(new Error(`tsc -p tsconfig.build.json failed (${signal ?? `exit code ${code}`}).`))));
  });
}

/** Each src/**.peggy as an ES module exporting `parse` and `SyntaxError`, at the same place under dist/. */
function compileGrammars(): string[] {
  const grammars = files(SRC).filter((path) => path.endsWith('.peggy'));
  for (const path of grammars) {
    const source = peggy.generate(readFileSync(path, 'utf8'), { output: 'source', format: 'es', grammarSource: basename(path) });
    const target = join(DIST, `${relative(SRC, path)}.js`);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, source);
  }
  return grammars.map((path) => relative(ROOT, path));
}

/** Builds dist/ from scratch (an earlier build's files of removed sources never linger). */
export async function build(log: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): Promise<void> {
  const started = Date.now();
  rmSync(DIST, { recursive: true, force: true });
  log('MLog: compiling src/ to dist/ (tsc -p tsconfig.build.json)…');
  try {
    await compileTypeScript();
    const grammars = compileGrammars();
    log(`MLog: compiled the grammars ${grammars.join(', ')}.`);
  } catch (error) {
    // A half-made dist/ must not read as built.
    rmSync(DIST, { recursive: true, force: true });
    throw error;
  }
  // Its time is the build's: newer than every source read.
  writeFileSync(DIST_MAIN, readFileSync(DIST_MAIN));
  log(`MLog: built dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
}

/** Builds dist/ when it is missing or older than a source; says which. */
export async function ensureBuilt(log: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): Promise<void> {
  const reason = buildReason();
  if (reason === undefined) {
    log('MLog: dist/ is up to date.');
    return;
  }
  log(`MLog: building dist/ (${reason})…`);
  await build(log);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  (process.argv.includes('--if-stale') ? ensureBuilt() : build()).catch((error: unknown) => {
    process.stderr.write(`MLog could not be built: ${(error as Error).message}\n`);
    process.exit(1);
  });
}
