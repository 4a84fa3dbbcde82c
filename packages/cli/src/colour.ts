import { createColors } from 'colorette';

/** Colour only for a person at a terminal, and never when they asked for none (no-color.org). */
export function colorsOn(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true && env.TERM !== 'dumb';
}

export type Palette = ReturnType<typeof createColors>;

/** The palette for text written to `stream` (identity functions when colour is off). */
export function paletteFor(stream: { isTTY?: boolean }): Palette {
  return createColors({ useColor: colorsOn(stream) });
}
