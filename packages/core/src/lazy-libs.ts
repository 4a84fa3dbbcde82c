// Heavy CommonJS libraries that only some commands need, loaded on first use instead of at
// import time. `fleet validate` and `fleet status` never build or parse XML, and read YAML with
// js-yaml unless a file has a problem, so they skip xmlbuilder2 (with the DOM library and the
// CommonJS js-yaml it requires: ~120 files) and `yaml` (~70 files). require() keeps the call
// sites synchronous; both packages are CommonJS, so this is the same instance `import` would give.
// Each call is written `createRequire(import.meta.url)('name')` so that the CLI's bundle (scripts/bundle-cli.mjs)
// sees a plain require and bundles the package, still loaded on first use.
import { createRequire } from 'node:module';
import type * as Xmlbuilder2 from 'xmlbuilder2';
import type * as YamlLib from 'yaml';

let xmlbuilder2: typeof Xmlbuilder2 | undefined;
let yaml: typeof YamlLib | undefined;

/** xmlbuilder2's `create`, loading xmlbuilder2 on the first call. */
export const createXml: typeof Xmlbuilder2.create = ((...args: unknown[]) => {
  xmlbuilder2 ??= createRequire(import.meta.url)('xmlbuilder2') as typeof Xmlbuilder2;
  return (xmlbuilder2.create as (...a: unknown[]) => unknown)(...args);
}) as typeof Xmlbuilder2.create;

/** The `yaml` library, loaded on the first call. */
export function yamlLib(): typeof YamlLib {
  yaml ??= createRequire(import.meta.url)('yaml') as typeof YamlLib;
  return yaml;
}
