// Listing a secret in an agent's YAML as a person would: the name added to its `secrets:` list in
// the list's own style (`[a, b]` stays a flow list with its spacing, a block list gets a line
// indented like its items), every other byte of the file as it was. yaml's own rendering would
// respace flow lists (`[a, b]` -> `[ a, b ]`) and comments.
import { isMap, isScalar, isSeq, parse, parseDocument } from 'yaml';

/** A name as a YAML scalar that reads back as that string (`true`, `1e3` are quoted). */
const scalar = (name: string) => (parse(name) === name ? name : JSON.stringify(name));

/** `text` with `secret` appended to its top-level `secrets:` list (or a new `secrets: [secret]`). */
export function withSecretListed(text: string, secret: string): string {
  const doc = parseDocument(text);
  const list: unknown = doc.toJS()?.secrets;
  if (Array.isArray(list) && list.includes(secret)) return text;
  const edited = splice(text, doc, scalar(secret));
  // The edit must mean exactly "one more secret"; anything else falls back to yaml's rendering.
  const expected = { ...(doc.toJS() ?? {}), secrets: [...(Array.isArray(list) ? list : []), secret] };
  if (edited !== undefined && JSON.stringify(parse(edited)) === JSON.stringify(expected)) return edited;
  if (isSeq(doc.get('secrets'))) doc.addIn(['secrets'], secret);
  else doc.set('secrets', [secret]);
  return doc.toString();
}

function splice(text: string, doc: ReturnType<typeof parseDocument>, item: string): string | undefined {
  if (!isMap(doc.contents)) return undefined;
  const pair = doc.contents.items.find((p) => isScalar(p.key) && p.key.value === 'secrets');
  if (pair === undefined) {
    const end = text.length === 0 || text.endsWith('\n') ? text : `${text}\n`;
    return `${end}secrets: [${item}]\n`;
  }
  const seq = pair.value;
  if (!isSeq(seq) || seq.range === undefined || seq.range === null) return undefined;
  const [start, valueEnd] = seq.range;
  const last = seq.items.at(-1);
  if (seq.flow) {
    // Before the closing bracket: after the last item, with the list's own separator.
    const close = text.lastIndexOf(']', valueEnd);
    if (close < start) return undefined;
    if (seq.items.length === 0) {
      // `[]` -> `[a]`, `[ ]` -> `[ a ]`.
      const inside = text.slice(start + 1, close);
      return `${text.slice(0, start + 1)}${inside}${item}${inside}${text.slice(close)}`;
    }
    if (!isScalar(last) || !last.range) return undefined;
    const after = last.range[1];
    const first = seq.items[0];
    const sep =
      seq.items.length > 1 && isScalar(first) && first.range && isScalar(seq.items[1]) && seq.items[1].range
        ? text.slice(first.range[1], seq.items[1].range[0])
        : ', ';
    return `${text.slice(0, after)}${sep}${item}${text.slice(after)}`;
  }
  // A block list: a new line after the last item's line, with that item's `- ` prefix.
  if (!isScalar(last) || !last.range) return undefined;
  const lineStart = text.lastIndexOf('\n', last.range[0] - 1) + 1;
  const prefix = text.slice(lineStart, last.range[0]);
  if (!/^\s*-\s+$/.test(prefix)) return undefined;
  const eol = text.indexOf('\n', last.range[1]);
  const at = eol < 0 ? text.length : eol;
  return `${text.slice(0, at)}\n${prefix}${item}${text.slice(at)}`;
}
