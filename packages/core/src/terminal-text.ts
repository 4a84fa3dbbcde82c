/**
 * Text from a guest (console log, rebuild output, failure tails) is data: a guest must not be able
 * to drive the operator's terminal (OSC 52 clipboard writes, window titles, cursor moves, screen
 * clears, DCS/APC payloads, bells). Everything that could start a terminal control is removed,
 * except plain colour (SGR, `ESC [ <digits ; :> m`), which build tools use and which only changes
 * how the following text looks.
 *
 * Safe per piece: every ESC left in the output begins a complete SGR sequence, so sanitized pieces
 * can be concatenated (lines streamed one by one) without a sequence spanning two of them.
 */
export function sanitizeTerminalText(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x1b) {
      i = skipEscape(text, i + 1, (sgr) => {
        out += sgr;
      });
      continue;
    }
    if (c >= 0x80 && c <= 0x9f) {
      // C1 controls: their 8-bit forms of CSI/OSC/DCS/SOS/PM/APC open a sequence like ESC + letter.
      i = STRING_C1.has(c) ? skipString(text, i + 1) : c === CSI_C1 ? skipCsi(text, i + 1).end : i + 1;
      continue;
    }
    if ((c < 0x20 && c !== 0x0a && c !== 0x09) || c === 0x7f) {
      i += 1;
      continue;
    }
    out += text[i];
    i += 1;
  }
  return out;
}

const CSI_C1 = 0x9b;
/** DCS, SOS, OSC, PM, APC: control strings, ended by ST (or BEL for OSC). */
const STRING_C1 = new Set([0x90, 0x98, 0x9d, 0x9e, 0x9f]);
const STRING_INTRODUCERS = new Set(['P', 'X', ']', '^', '_']);
const SGR = /^[0-9;:]*$/;

/** After an ESC at `i - 1`: the index past the sequence; a plain SGR is handed to `keep`. */
function skipEscape(text: string, i: number, keep: (sgr: string) => void): number {
  const next = text[i];
  if (next === undefined) return i; // lone ESC at the end
  if (next === '[') {
    const csi = skipCsi(text, i + 1);
    if (csi.final === 'm' && SGR.test(csi.body)) keep(`\x1b[${csi.body}m`);
    return csi.end;
  }
  if (STRING_INTRODUCERS.has(next)) return skipString(text, i + 1);
  // nF/Fp/Fe/Fs escapes (ESC ( B, ESC 7, ESC c, ...): intermediates 0x20-0x2f, then one final.
  let j = i;
  while (j < text.length && text.charCodeAt(j) >= 0x20 && text.charCodeAt(j) <= 0x2f) j += 1;
  const f = text.charCodeAt(j);
  return f >= 0x30 && f <= 0x7e ? j + 1 : j;
}

/** A CSI body from `i`: parameter and intermediate bytes up to a final byte (or the first byte that is neither). */
function skipCsi(text: string, i: number): { body: string; final: string | undefined; end: number } {
  let j = i;
  while (j < text.length) {
    const b = text.charCodeAt(j);
    if (b >= 0x20 && b <= 0x3f) {
      j += 1;
      continue;
    }
    if (b >= 0x40 && b <= 0x7e) return { body: text.slice(i, j), final: text[j], end: j + 1 };
    break; // malformed: drop what was read, keep the rest as text
  }
  return { body: text.slice(i, j), final: undefined, end: j };
}

/** A control string's payload up to and including its terminator (ST, BEL), or to the end. */
function skipString(text: string, i: number): number {
  for (let j = i; j < text.length; j++) {
    const b = text.charCodeAt(j);
    if (b === 0x07 || b === 0x9c) return j + 1;
    if (b === 0x1b && text[j + 1] === '\\') return j + 2;
  }
  return text.length;
}
