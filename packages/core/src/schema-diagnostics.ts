import { z } from 'zod';
import type { Diagnostic } from './diagnostics.js';
import { joinPath, positionOf, type YamlSource } from './yaml-source.js';

/** zod issues -> diagnostics located in the YAML; unknown keys point at the key itself. */
export function schemaDiagnostics(
  src: YamlSource,
  schema: z.ZodType,
  issues: readonly z.core.$ZodIssue[],
): Diagnostic[] {
  return issues.flatMap((issue) => {
    const path = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      const allowed = allowedKeysAt(schema, issue.path);
      return issue.keys.map((key) => {
        const keyPath = joinPath(path, key);
        const pos = src.keys[keyPath] ?? positionOf(src, path);
        return { file: src.file, ...pos, path: keyPath, message: unknownKeyMessage(key, allowed) };
      });
    }
    return [{ file: src.file, ...positionOf(src, path), path, message: issueMessage(issue, src, path) }];
  });
}

function issueMessage(issue: z.core.$ZodIssue, src: YamlSource, path: string): string {
  if (issue.code === 'invalid_type' && src.values[path] === undefined) return 'required field is missing';
  return issue.message.replace(/^Invalid input: /, '');
}

/** Field names the schema allows at `path`, for "did you mean" suggestions. */
function allowedKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let node: z.ZodType | undefined = schema;
  for (const step of [...path, undefined]) {
    while (node instanceof z.ZodOptional) node = node.unwrap() as z.ZodType;
    if (step === undefined) break;
    if (node instanceof z.ZodObject) node = node.shape[String(step)] as z.ZodType | undefined;
    else if (node instanceof z.ZodArray) node = node.element as z.ZodType;
    else return [];
  }
  return node instanceof z.ZodObject ? Object.keys(node.shape).filter((k) => k !== '$schema') : [];
}

function unknownKeyMessage(key: string, allowed: readonly string[]): string {
  const near = allowed.find((k) => editDistance(k.toLowerCase(), key.toLowerCase()) <= 2);
  return near ? `unknown field '${key}' (did you mean '${near}'?)` : `unknown field '${key}'`;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(
        (prev[j] ?? 0) + 1,
        (cur[j - 1] ?? 0) + 1,
        (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}
