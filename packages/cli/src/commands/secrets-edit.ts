// `fleet secrets edit/add`: the one place plaintext meets a filesystem, and only a private tmpfs
// directory when there is one. The file is overwritten with zeros before it is removed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { FleetError, UsageError } from '../errors.js';

/** /dev/shm is RAM-backed, so a crash leaves nothing on disk; fall back to the usual temp dir. */
function privateDir(): string {
  for (const base of ['/dev/shm', tmpdir()]) {
    try {
      return mkdtempSync(join(base, 'fleet-secret-')); // mkdtemp creates it 0700
    } catch {}
  }
  throw new FleetError('cannot create a private temporary directory');
}

function wipe(path: string): void {
  try {
    writeFileSync(path, new Uint8Array(statSync(path).size));
  } catch {}
}

/**
 * Lets the user change `initial`: with $EDITOR on a 0600 file, or, without an editor and with
 * piped stdin (scripts), the new content is stdin, as agenix does.
 */
export function editPlaintext(name: string, initial: Uint8Array): Uint8Array {
  const editor = process.env.EDITOR;
  if (!editor) {
    if (process.stdin.isTTY) throw new UsageError('set $EDITOR, or pipe the new content on stdin');
    return new Uint8Array(readFileSync(0));
  }
  const dir = privateDir();
  const file = join(dir, basename(name).replace(/\.age$/, ''));
  try {
    writeFileSync(file, initial, { mode: 0o600 });
    // Through sh so EDITOR may carry arguments ("code --wait"), like git and agenix allow.
    const run = spawnSync('sh', ['-c', `${editor} "$1"`, 'fleet-secrets-edit', file], { stdio: 'inherit' });
    if (run.status !== 0) throw new FleetError(`editor '${editor}' exited with ${run.status ?? run.signal}`);
    return new Uint8Array(readFileSync(file));
  } finally {
    wipe(file);
    rmSync(dir, { recursive: true, force: true });
  }
}
