import { FAILSAFE_SCHEMA, load, Type } from 'js-yaml';

// YAML 1.2 core schema scalars exactly as the `yaml` library resolves them. js-yaml's own
// CORE_SCHEMA is looser (0b1 binary, 1_000 underscores), which would let the two parsers read
// one file differently.
const scalar = (tag: string, re: RegExp, construct: (s: string) => unknown) =>
  new Type(`tag:yaml.org,2002:${tag}`, { kind: 'scalar', resolve: (s: string) => re.test(s), construct });

const YAML_CORE = FAILSAFE_SCHEMA.extend({
  implicit: [
    scalar('null', /^(?:~|null|Null|NULL)?$/, () => null),
    scalar('bool', /^(?:true|True|TRUE|false|False|FALSE)$/, (s) => /^t/i.test(s)),
    scalar('int', /^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$/, (s) =>
      s.startsWith('0o')
        ? Number.parseInt(s.slice(2), 8)
        : s.startsWith('0x')
          ? Number.parseInt(s.slice(2), 16)
          : Number(s),
    ),
    scalar(
      'float',
      /^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/,
      (s) =>
        /\.nan$/i.test(s)
          ? Number.NaN
          : /inf$/i.test(s)
            ? (s.startsWith('-') ? -1 : 1) * Infinity
            : Number(s),
    ),
  ],
});

/**
 * The value of a YAML text by the fast route (js-yaml with the YAML 1.2 core scalars, duplicate
 * keys refused), or undefined when js-yaml refuses it. Valid files, the common case, never need
 * the `yaml` library's positions; anything refused here or by the schema is parsed again with
 * it, and that parse is authoritative.
 */
export function fastYamlValue(text: string): { value: unknown } | undefined {
  // Where the two libraries are known to read a text differently, leave it to the slow path:
  // keys that are not plain strings are stringified differently (a null key is 'null' here, ''
  // there; [a, b] is 'a,b' here, '[ a, b ]' there), so an explicit '?' key or a flow collection
  // right before ':'; and js-yaml takes '---x' at a line start for a document marker.
  if (AMBIGUOUS.test(text)) return undefined;
  let value: unknown;
  try {
    value = load(text, { schema: YAML_CORE });
  } catch {
    return undefined; // the slow path reports the error, located
  }
  return hasNullKey(value) ? undefined : { value };
}

const AMBIGUOUS = /^\s*(?:- +)*\?(?:\s|$)|[\]}]\s*:(?:\s|$)|^(?:---|\.\.\.)\S/m;

function hasNullKey(v: unknown): boolean {
  if (Array.isArray(v)) return v.some(hasNullKey);
  if (v === null || typeof v !== 'object') return false;
  return Object.entries(v).some(([k, x]) => k === 'null' || hasNullKey(x));
}
