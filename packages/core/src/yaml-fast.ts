import { CORE_SCHEMA, load } from 'js-yaml';

/**
 * The value of a YAML text by the fast route (js-yaml, YAML 1.2 core schema, duplicate keys
 * refused), or undefined when js-yaml refuses it. Valid files, the common case, never need the
 * `yaml` library's positions; anything refused here or by the schema is parsed again with it,
 * and that parse is authoritative.
 */
export function fastYamlValue(text: string): { value: unknown } | undefined {
  try {
    return { value: load(text, { schema: CORE_SCHEMA }) };
  } catch {
    return undefined; // the slow path reports the error, located
  }
}
