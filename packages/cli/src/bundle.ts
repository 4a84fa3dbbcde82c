// The CLI's bundle (dist/fleet.cjs) and V8's code cache for it (dist/fleet.cjs.cache): made together by
// scripts/bundle-cli.mjs after `tsc -b`, run by main.ts.
import { readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

export const BUNDLE = fileURLToPath(new URL('./fleet.cjs', import.meta.url));
export const CODE_CACHE = `${BUNDLE}.cache`;

/**
 * The bundle's source compiled as Node compiles a CommonJS module (its wrapper, its file name), with V8's cache when
 * given one: the build and every run compile the same text, or V8 would reject the cache.
 */
export function compileBundle(source: string, cachedData?: Buffer): Script {
  return new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: BUNDLE,
    ...(cachedData && { cachedData }),
  });
}

/**
 * Why the bundle cannot run, if it cannot: missing, or older than a package's TypeScript build (`tsc -b` run alone
 * after a change would otherwise leave `fleet` running the code before it, silently).
 */
export function bundleProblem(bundle: string, packagesDir: string): string | undefined {
  const built = statSync(bundle, { throwIfNoEntry: false })?.mtimeMs;
  if (built === undefined) return `${bundle} is missing`;
  // Directories only: a stray file there (a README, an editor's) must not stop every command.
  for (const pkg of readdirSync(packagesDir, { withFileTypes: true }).filter((e) => e.isDirectory())) {
    const info = join(packagesDir, pkg.name, 'dist', '.tsbuildinfo');
    const compiled = statSync(info, { throwIfNoEntry: false })?.mtimeMs;
    if (compiled !== undefined && compiled > built)
      return `${relative(process.cwd(), bundle) || bundle} is older than ${relative(dirname(packagesDir), dirname(info))}`;
  }
  return undefined;
}
