/** `4GiB`, `512MiB`, `1.5GiB`, or a bare number of MiB. Decimal units (GB/MB) are refused: ambiguous. */
export const MEMORY_PATTERN = '^[0-9]+(\\.[0-9]+)?(MiB|GiB|TiB)$';
const MEMORY_RE = /^([0-9]+(?:\.[0-9]+)?)(MiB|GiB|TiB)$/;
const MIB_PER: Record<string, number> = { MiB: 1, GiB: 1024, TiB: 1024 * 1024 };

export const MIN_MEMORY_MIB = 256;

/** MiB of a memory value, or a message saying what is wrong with it. */
export function memoryMiB(value: number | string): { mib: number } | { problem: string } {
  let mib: number;
  if (typeof value === 'number') {
    mib = value;
  } else {
    const m = MEMORY_RE.exec(value);
    if (!m?.[1] || !m[2]) {
      return { problem: `'${value}' is not a memory size: write e.g. 4GiB, 512MiB or a number of MiB` };
    }
    mib = Number(m[1]) * (MIB_PER[m[2]] ?? 1);
  }
  if (!Number.isInteger(mib)) return { problem: `${value} is not a whole number of MiB` };
  if (mib < MIN_MEMORY_MIB) return { problem: `${value} is less than the minimum of ${MIN_MEMORY_MIB}MiB` };
  return { mib };
}
