import { Writable } from 'node:stream';
import { pino } from 'pino';
import pinoPretty from 'pino-pretty';
import { describe, expect, it } from 'vitest';
import { colorsOn } from './colour.js';
import { defaultLogFormat, prettyOptions } from './logging.js';

/** Formats one warning the way `fleet` does on a terminal, into a string. */
function prettyLine(colorize: boolean): string {
  let out = '';
  const sink = new Writable({
    write(chunk, _enc, done) {
      out += String(chunk);
      done();
    },
  });
  const log = pino({ base: undefined }, pinoPretty({ ...prettyOptions(colorize), destination: sink }));
  log.warn({ uri: 'qemu:///system' }, 'KVM is not usable: using TCG');
  return out;
}

describe('logs', () => {
  it('are pretty on a terminal and JSON otherwise', () => {
    expect(defaultLogFormat(true)).toBe('pretty');
    expect(defaultLogFormat(false)).toBe('json');
    expect(defaultLogFormat(undefined)).toBe('json');
  });

  it('print one short line: time, level, message, fields', () => {
    expect(prettyLine(false)).toMatch(
      /^\[\d\d:\d\d:\d\d\] WARN: KVM is not usable: using TCG \{"uri":"qemu:\/\/\/system"\}\n$/,
    );
    expect(prettyLine(true)).toContain('\x1b[33mWARN\x1b[39m');
  });
});

describe('colour', () => {
  it('is on at a terminal, off in pipes, and NO_COLOR wins', () => {
    expect(colorsOn({ isTTY: true }, {})).toBe(true);
    expect(colorsOn({ isTTY: false }, {})).toBe(false);
    expect(colorsOn({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(colorsOn({ isTTY: true }, { TERM: 'dumb' })).toBe(false);
    expect(colorsOn({ isTTY: false }, { FORCE_COLOR: '1' })).toBe(true);
  });
});
