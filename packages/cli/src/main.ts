#!/usr/bin/env node
// fleet's entry point: runs the CLI's bundle (dist/fleet.cjs: cli.ts and every module and library it imports, in
// one file) with the V8 code cache the build made beside it. Node 20 has no compile cache of its own
// (module.enableCompileCache came in Node 22), and resolving, compiling and linking the ~460 ES modules of the
// unbundled build took 0.3-0.5 s of every command (bench/startup.mjs). v8-compile-cache would cache too, but it
// writes its cache at run time into a directory under /tmp that another local user can create first: this one is
// made by the build, beside the code, and trusted as the code is. If V8 rejects it (another Node), the bundle
// compiles as usual.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUNDLE, bundleProblem, CODE_CACHE, compileBundle } from './bundle.js';

const problem = bundleProblem(BUNDLE, fileURLToPath(new URL('../../', import.meta.url)));
if (problem) {
  process.stderr.write(`fleet: ${problem}\n  run \`npm run build\` in the agentfleet checkout\n`);
  process.exit(1);
}
let cachedData: Buffer | undefined;
try {
  cachedData = readFileSync(CODE_CACHE);
} catch {
  // No cache: the bundle compiles without it.
}
const module = { exports: {} };
compileBundle(readFileSync(BUNDLE, 'utf8'), cachedData).runInThisContext()(
  module.exports,
  createRequire(BUNDLE),
  module,
  BUNDLE,
  dirname(BUNDLE),
);
