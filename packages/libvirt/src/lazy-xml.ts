// xmlbuilder2 (with the DOM library and js-yaml it requires, ~120 CommonJS files) loads on the
// first XML parsed, not when the adapter is imported: `fleet status` lists domains without it.
import { createRequire } from 'node:module';
import type * as Xmlbuilder2 from 'xmlbuilder2';

let xmlbuilder2: typeof Xmlbuilder2 | undefined;

/** xmlbuilder2's `create`, loading xmlbuilder2 on the first call. */
export const createXml: typeof Xmlbuilder2.create = ((...args: unknown[]) => {
  xmlbuilder2 ??= createRequire(import.meta.url)('xmlbuilder2') as typeof Xmlbuilder2;
  return (xmlbuilder2.create as (...a: unknown[]) => unknown)(...args);
}) as typeof Xmlbuilder2.create;
