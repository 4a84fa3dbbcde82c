import type { z } from 'zod';
import type { Diagnostic } from './diagnostics.js';
import { schemaDiagnostics } from './schema-diagnostics.js';
import { fastYamlValue } from './yaml-fast.js';
import { parseYamlSource } from './yaml-source.js';

/**
 * A YAML file checked against a schema: its value, or located diagnostics. Fast route first;
 * only when that fails is the file parsed with positions, and that result decides.
 */
export function parseValidated<S extends z.ZodType>(
  file: string,
  text: string,
  schema: S,
): z.infer<S> | Diagnostic[] {
  const fast = fastYamlValue(text);
  if (fast) {
    const parsed = schema.safeParse(fast.value);
    if (parsed.success) return parsed.data;
  }
  const src = parseYamlSource(file, text);
  if (src.errors.length > 0) return src.errors;
  const parsed = schema.safeParse(src.value);
  return parsed.success ? parsed.data : schemaDiagnostics(src, schema, parsed.error.issues);
}
