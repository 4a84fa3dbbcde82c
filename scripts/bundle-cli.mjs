#!/usr/bin/env node
// scripts/bundle-cli.mjs -- after `tsc -b` (`npm run build` runs both): the CLI as one CommonJS file,
// packages/cli/dist/fleet.cjs, and V8's code cache for it, fleet.cjs.cache, which packages/cli/dist/main.js runs
// (packages/cli/src/main.ts says why). Bundled from the compiled dist/ files, so the bundle runs what tsc checked.
import { readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const repo = fileURLToPath(new URL('..', import.meta.url));
const { writeFileAtomicSync } = await import(
  pathToFileURL(join(repo, 'packages/atomic-file/dist/index.js')).href
);
const { BUNDLE, CODE_CACHE, compileBundle } = await import(
  pathToFileURL(join(repo, 'packages/cli/dist/bundle.js')).href
);
const outDir = dirname(BUNDLE);
const fromBundle = (file) => `./${relative(outDir, file)}`;

// The packages' own modules find files beside them (their package.json, the JSON schema, libexec/, the addon)
// through import.meta.url, which a CommonJS bundle does not have: each becomes the URL its module had, computed from
// where the bundle is at run time, so the checkout can move after the build. `createRequire(import.meta.url)('x')`
// (how the lazily loaded CommonJS libraries are written) becomes `require('x')`, which esbuild bundles, and still
// loads x on first use.
const ownFiles = {
  name: 'agentfleet-files',
  setup(b) {
    b.onLoad({ filter: /\/packages\/[^/]+\/dist\/.*\.js$/ }, async ({ path }) => {
      const source = await readFile(path, 'utf8');
      return {
        contents: source
          .replaceAll('createRequire(import.meta.url)(', 'require(')
          .replaceAll('import.meta.url', `__agentfleetFileUrl(${JSON.stringify(fromBundle(path))})`),
        loader: 'js',
      };
    });
    // Native addons stay files of their own, required by their path from the bundle.
    b.onResolve({ filter: /\.node$/ }, ({ path, resolveDir }) => ({
      path: fromBundle(resolve(resolveDir, path)),
      external: true,
    }));
  },
};

const result = await build({
  entryPoints: [join(repo, 'packages/cli/dist/cli.js')],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // Class and function names as they are in the source, for stack traces and logs.
  keepNames: true,
  minifyWhitespace: true,
  minifySyntax: true,
  write: false,
  outfile: BUNDLE,
  plugins: [ownFiles],
  banner: {
    js: 'const __agentfleetFileUrl = (p) => require("node:url").pathToFileURL(require("node:path").join(__dirname, p)).href;',
  },
  logLevel: 'silent',
});
// A warning here is a module the bundle would run differently from the unbundled build (import.meta left empty, a
// require esbuild could not follow): the build fails rather than ship it.
if (result.warnings.length > 0) {
  for (const w of result.warnings)
    console.error(`bundle-cli: ${w.location ? `${w.location.file}:${w.location.line}: ` : ''}${w.text}`);
  process.exit(1);
}
const source = result.outputFiles[0].text;
writeFileAtomicSync(BUNDLE, source);
// Made right after compiling, before anything runs: what the build can make without running a command.
writeFileAtomicSync(CODE_CACHE, compileBundle(source).createCachedData());
