import { open, stat } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';

/**
 * `fleet logs -f`: calls `onText` with what is appended to `path` after `from` (a byte offset, e.g. the size when
 * the tail was printed), polling every `pollMs`, until `signal` aborts. A file that shrinks (recreated) is read
 * again from its start; one that does not exist yet is waited for.
 */
export async function followFile(
  path: string,
  from: number,
  onText: (text: string) => void,
  signal: AbortSignal,
  pollMs = 250,
): Promise<void> {
  let pos = from;
  const decoder = new StringDecoder('utf8');
  while (!signal.aborted) {
    const size = await stat(path).then(
      (s) => s.size,
      () => 0,
    );
    if (size < pos) pos = 0;
    if (size > pos) {
      const fh = await open(path, 'r');
      try {
        const buf = Buffer.alloc(Math.min(size - pos, 1024 * 1024));
        const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
        pos += bytesRead;
        const text = decoder.write(buf.subarray(0, bytesRead));
        if (text) onText(text);
      } finally {
        await fh.close();
      }
      continue;
    }
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, pollMs);
      signal.addEventListener(
        'abort',
        () => {
          clearTimeout(t);
          resolve();
        },
        { once: true },
      );
    });
  }
}

/** The size of `path` now (0 when it does not exist): where a follow starts after printing the tail. */
export const fileSize = (path: string) =>
  stat(path).then(
    (s) => s.size,
    () => 0,
  );
