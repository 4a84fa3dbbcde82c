import type { Palette } from '../colour.js';

/**
 * Colours renderPlan's text by its terraform-like markers (core renders plain text; colour is a
 * terminal concern): creation green, change/stop yellow, destruction and blocks red.
 */
export function colourPlan(text: string, c: Palette): string {
  return text
    .split('\n')
    .map((line) => {
      if (line.startsWith('    #')) return c.dim(line);
      switch (line[0]) {
        case '+':
          return c.green(line);
        case '~':
        case '.':
          return c.yellow(line);
        case '>':
          return c.cyan(line);
        case '-':
          return c.red(line);
        case '!':
          return c.bold(c.red(line));
        case '?':
          return c.magenta(line);
        case '=':
          return c.dim(line);
        default:
          return line;
      }
    })
    .join('\n');
}

/** A libvirt domain state as a person scans it: running green, stopped dim, trouble red. */
export function colourState(state: string, c: Palette): string {
  if (state === 'running') return c.green(state);
  if (state === 'paused' || state === 'pmsuspended' || state === 'blocked') return c.yellow(state);
  if (state === 'crashed') return c.red(state);
  return c.dim(state);
}
