import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sanitizeTerminalText } from './terminal-text.js';

/** What may reach a terminal: no control character but \n and \t, and ESC only opening a complete SGR. */
function isInert(text: string): boolean {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  const withoutSgr = text.replace(/\x1b\[[0-9;:]*m/g, '');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: as above
  return !/[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]/.test(withoutSgr);
}

const ESC = '\x1b';
const BEL = '\x07';
const ST = `${ESC}\\`;

// Pieces an attacker would mix: every kind of sequence, truncated ones, C0/C1 bytes, plain text.
const piece = fc.oneof(
  fc.string(),
  fc.string({ unit: fc.integer({ min: 0, max: 0xa0 }).map((c) => String.fromCharCode(c)) }),
  fc.constantFrom(ESC, BEL, '\r', '\x9b', '\x9d', '\x90', '\x9c', '[', ']', 'm', ';', '\\', 'P', '_', '^'),
  fc.stringMatching(/^[0-9;:]{0,8}$/).map((p) => `${ESC}[${p}m`),
  fc.base64String().map((b) => `${ESC}]52;c;${b}${BEL}`),
  fc.string().map((t) => `${ESC}]0;${t}${ST}`),
  fc.string().map((t) => `${ESC}P${t}${ST}`),
  fc.stringMatching(/^[0-9;?]{0,6}[A-Za-z@`]$/).map((t) => `${ESC}[${t}`),
);
const hostile = fc.array(piece, { maxLength: 12 }).map((p) => p.join(''));
const printable = fc.string({
  unit: fc.oneof(
    fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
    fc.constantFrom('\n', '\t', 'é', '→', '日', '🙂'),
  ),
});

describe('sanitizeTerminalText', () => {
  it('leaves nothing that can drive a terminal, whatever the input', () => {
    fc.assert(fc.property(hostile, (s) => isInert(sanitizeTerminalText(s))));
  });

  it('is idempotent', () => {
    fc.assert(
      fc.property(hostile, (s) => {
        const once = sanitizeTerminalText(s);
        return sanitizeTerminalText(once) === once;
      }),
    );
  });

  it('keeps printable text, newlines, tabs and non-ASCII unchanged', () => {
    fc.assert(fc.property(printable, (s) => sanitizeTerminalText(s) === s));
  });

  it('keeps plain colour around text', () => {
    fc.assert(
      fc.property(printable, fc.stringMatching(/^[0-9;]{0,8}$/), (s, p) => {
        const coloured = `${ESC}[${p}m${s}${ESC}[0m`;
        return sanitizeTerminalText(coloured) === coloured;
      }),
    );
  });

  it('sanitized pieces stay inert when concatenated (line-by-line streaming)', () => {
    fc.assert(
      fc.property(fc.array(hostile, { maxLength: 6 }), (parts) =>
        isInert(parts.map(sanitizeTerminalText).join('')),
      ),
    );
  });

  it.each([
    ['OSC 52 clipboard write (BEL)', `a${ESC}]52;c;ZWNobyBwd25lZA==${BEL}b`, 'ab'],
    ['window title (ST)', `a${ESC}]0;pwned${ST}b`, 'ab'],
    ['8-bit OSC', 'a\x9d0;pwned\x9cb', 'ab'],
    ['DCS payload', `a${ESC}Pq#0;2;0;0;0${ST}b`, 'ab'],
    ['APC and PM', `a${ESC}_x${ST}${ESC}^y${ST}b`, 'ab'],
    ['screen clear and cursor moves', `a${ESC}[2J${ESC}[H${ESC}[10;10fb`, 'ab'],
    ['8-bit CSI', 'a\x9b2Jb', 'ab'],
    ['SGR with a private marker is not plain colour', `a${ESC}[?1049hb${ESC}[>4;2m`, 'ab'],
    ['charset switch, save cursor, reset', `a${ESC}(0${ESC}7${ESC}cb`, 'ab'],
    ['bell, backspace, carriage return, DEL', `a${BEL}\b\r\x7fb`, 'ab'],
    ['lone ESC at the end', `ab${ESC}`, 'ab'],
    ['unterminated OSC drops the rest of the piece', `ab${ESC}]52;c;Zm9v`, 'ab'],
    ['colour kept', `${ESC}[1;31merror${ESC}[0m: x`, `${ESC}[1;31merror${ESC}[0m: x`],
  ])('%s', (_name, input, expected) => {
    expect(sanitizeTerminalText(input)).toBe(expected);
  });
});
