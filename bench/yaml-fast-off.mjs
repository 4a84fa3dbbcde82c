// Loaded with `node --import ./bench/yaml-fast-off.mjs`: core's js-yaml fast path answers "not
// taken" for every file, so each YAML file is parsed by the `yaml` library, as it would be without
// the fast path. With YAML_FAST=on the same hook runs but changes nothing: resolve hooks cost every
// import something, so the comparison runs both cases through one. Only bench/yaml-fast.mjs uses it.
import { register } from 'node:module';

const stub = 'export function fastYamlValue() { return undefined; }';
register(
  `data:text/javascript,${encodeURIComponent(`
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  return ${process.env.YAML_FAST !== 'on'} && r.url.endsWith('/packages/core/dist/yaml-fast.js')
    ? { url: 'data:text/javascript,${encodeURIComponent(stub)}', shortCircuit: true }
    : r;
}`)}`,
);
