// The launcher (dist/main.js) as a user meets it: run from a copy of the built launcher in a scratch
// checkout layout, with a bundle missing, stale or present, and the real bundle's code cache as this
// Node's V8 reads it (a rejected cache costs every command its compile time, silently).
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CLI } from '@agentfleet/testing/run-cli';
import { afterAll, describe, expect, it } from 'vitest';

const root = mkdtempSync(join(tmpdir(), 'agentfleet-launcher-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A scratch checkout: packages/cli/dist with the built launcher, packages/core/dist/.tsbuildinfo. */
function checkout(name: string): { dist: string; info: string } {
  const dist = join(root, name, 'packages/cli/dist');
  mkdirSync(dist, { recursive: true });
  for (const f of ['main.js', 'bundle.js']) copyFileSync(join(dirname(CLI), f), join(dist, f));
  writeFileSync(join(dist, 'package.json'), '{"type":"module"}');
  const info = join(root, name, 'packages/core/dist/.tsbuildinfo');
  mkdirSync(dirname(info), { recursive: true });
  writeFileSync(info, '{}');
  // A file beside the packages is no package (it once made every command fail with ENOTDIR).
  writeFileSync(join(root, name, 'packages/.DS_Store'), '');
  return { dist, info };
}
const launch = (dist: string) =>
  spawnSync(process.execPath, [join(dist, 'main.js'), '--x'], { encoding: 'utf8' });

describe('the launcher', () => {
  it('says to build when the bundle is missing', () => {
    const { dist } = checkout('missing');
    const r = launch(dist);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('fleet.cjs is missing');
    expect(r.stderr).toContain('npm run build');
  });

  it('refuses a bundle older than the TypeScript build (tsc -b run alone after a change)', () => {
    const { dist } = checkout('stale');
    writeFileSync(join(dist, 'fleet.cjs'), 'console.log("old code ran")');
    utimesSync(join(dist, 'fleet.cjs'), new Date(2020, 0, 1), new Date(2020, 0, 1));
    const r = launch(dist);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/fleet\.cjs is older than packages\/core\/dist/);
  });

  it('runs the bundle as a CommonJS module, with the arguments, without a code cache', () => {
    const { dist, info } = checkout('fresh');
    utimesSync(info, new Date(2020, 0, 1), new Date(2020, 0, 1));
    writeFileSync(
      join(dist, 'fleet.cjs'),
      'console.log(typeof require, typeof module.exports, __filename.endsWith("fleet.cjs"), process.argv[2])',
    );
    const r = launch(dist);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('function object true --x\n');
  });
});

describe('the built bundle', () => {
  it("has a code cache this Node's V8 accepts", async () => {
    // The built module, as the launcher uses it (the source's import.meta.url would point into src/).
    const { BUNDLE, CODE_CACHE, compileBundle } = (await import(
      pathToFileURL(join(dirname(CLI), 'bundle.js')).href
    )) as typeof import('./bundle.js');
    const script = compileBundle(readFileSync(BUNDLE, 'utf8'), readFileSync(CODE_CACHE));
    expect(script.cachedDataRejected).toBe(false);
  });
});
