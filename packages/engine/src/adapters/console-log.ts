import { open } from 'node:fs/promises';

/** Last `lines` lines of a (possibly large, possibly missing) console log. */
export async function tailFile(path: string, lines = 30, maxBytes = 64 * 1024): Promise<string[]> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  try {
    const { size } = await fh.stat();
    const len = Math.min(size, maxBytes);
    const buf = Buffer.alloc(len);
    await fh.read(buf, 0, len, size - len);
    // Serial consoles emit \r\n and stray control bytes; keep the text readable.
    const text = buf.toString('utf8').replace(/\r/g, '');
    const all = text.split('\n');
    if (all.at(-1) === '') all.pop();
    return all.slice(-lines);
  } finally {
    await fh.close();
  }
}
