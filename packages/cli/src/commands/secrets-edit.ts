// `fleet secrets edit/add`: the one place plaintext meets a filesystem, and only a private tmpfs
// directory when there is one. Every file in it (the editor's swap and backup files too) is
// overwritten with zeros before the directory is removed: after the edit, when the editor fails or
// crashes, and when fleet is interrupted (SIGINT, SIGTERM, SIGHUP) while the editor runs.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { FleetError, InterruptedError, UsageError } from '../errors.js';

/** /dev/shm is RAM-backed, so a crash leaves nothing on disk; fall back to the usual temp dir. */
function privateDir(): string {
  for (const base of ['/dev/shm', tmpdir()]) {
    try {
      return mkdtempSync(join(base, 'fleet-secret-')); // mkdtemp creates it 0700
    } catch {}
  }
  throw new FleetError('cannot create a private temporary directory');
}

function wipeDir(dir: string): void {
  try {
    for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
      const path = join(e.parentPath, e.name);
      try {
        if (e.isFile()) writeFileSync(path, new Uint8Array(statSync(path).size));
      } catch {}
    }
  } catch {}
  rmSync(dir, { recursive: true, force: true });
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
/** How long an editor gets to exit after fleet passes a signal on, before it is killed. */
const EDITOR_GRACE_MS = 2000;

/**
 * Runs the editor on `file` and resolves with its exit. A SIGTERM or SIGHUP to fleet is passed to
 * the editor (killed if it has not exited within the grace period) and ends the edit. SIGINT is
 * passed on too, but, as git does, only ends the edit if the editor exits: a terminal's Ctrl-C
 * reaches both, and an editor that treats it as a key (vim) keeps editing.
 */
function runEditor(
  editor: string,
  file: string,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; interrupted?: NodeJS.Signals }> {
  return new Promise((resolve, reject) => {
    // Through sh so EDITOR may carry arguments ("code --wait"), like git and agenix allow; `exec`
    // so a signal for the editor reaches the editor, not a shell waiting on it.
    const child = spawn('sh', ['-c', `exec ${editor} "$1"`, 'fleet-secrets-edit', file], {
      stdio: 'inherit',
    });
    let interrupted: NodeJS.Signals | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    const onSignal = (signal: NodeJS.Signals) => {
      child.kill(signal);
      if (signal === 'SIGINT') {
        interrupted ??= signal;
        return;
      }
      interrupted = signal;
      killTimer ??= setTimeout(() => child.kill('SIGKILL'), EDITOR_GRACE_MS);
    };
    for (const s of SIGNALS) process.on(s, onSignal);
    const done = () => {
      for (const s of SIGNALS) process.off(s, onSignal);
      clearTimeout(killTimer);
    };
    child.on('error', (err) => {
      done();
      reject(new FleetError(`cannot run editor '${editor}': ${err.message}`));
    });
    child.on('exit', (code, signal) => {
      done();
      // A SIGINT the editor survived was a key press in it, not the end of the edit.
      const ended = interrupted === 'SIGINT' && code === 0 ? undefined : interrupted;
      resolve({ code, signal, ...(ended && { interrupted: ended }) });
    });
  });
}

/**
 * Lets the user change `initial`: with $EDITOR on a 0600 file, or, without an editor and with
 * piped stdin (scripts), the new content is stdin, as agenix does.
 */
export async function editPlaintext(name: string, initial: Uint8Array): Promise<Uint8Array> {
  const editor = process.env.EDITOR;
  if (!editor) {
    if (process.stdin.isTTY) throw new UsageError('set $EDITOR, or pipe the new content on stdin');
    return new Uint8Array(readFileSync(0));
  }
  const dir = privateDir();
  const file = join(dir, basename(name).replace(/\.age$/, ''));
  try {
    writeFileSync(file, initial, { mode: 0o600 });
    const run = await runEditor(editor, file);
    if (run.interrupted)
      throw new InterruptedError(run.interrupted, 'the decrypted copy was wiped, nothing was changed');
    if (run.code !== 0)
      throw new FleetError(`editor '${editor}' exited with ${run.code ?? run.signal}; nothing was changed`);
    return new Uint8Array(readFileSync(file));
  } finally {
    wipeDir(dir);
  }
}
