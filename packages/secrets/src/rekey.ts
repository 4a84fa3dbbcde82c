// `agenix -r`, in process: every affected secret is decrypted with the admin's identities and
// re-encrypted in memory to exactly the recipients its rule lists. Files whose header already
// shows those recipients are left alone, so a rekey does not churn git.
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { commitTemp, flushTemp, type PendingFile, syncDirectory, writeTemp } from '@agentfleet/atomic-file';
import { type AgeHeader, decryptSecret, encryptSecret, readHeader } from './age-file.js';
import type { AgeIdentity } from './identities.js';
import { type ParsedRecipient, recipientParser } from './recipients.js';
import type { Rules } from './rules.js';

export interface RekeyOptions {
  /** Directory of secrets.nix; rule names are paths relative to it. */
  secretsDir: string;
  rules: Rules;
  /** Identities that can decrypt the current files (the admin's keys). */
  identities: readonly AgeIdentity[];
  /** Restrict to some rule names, e.g. the files an agent gets. */
  only?: (file: string) => boolean;
  /** Re-encrypt even files whose header already matches their rule. */
  force?: boolean;
}

export interface RekeySummary {
  /** Re-encrypted and replaced. */
  rekeyed: string[];
  /** Header already matched the rule; file not touched. */
  unchanged: string[];
  /** A rule without a file yet (agenix skips these too). */
  missing: string[];
  /** Left untouched because of the error. */
  failed: { file: string; error: string }[];
}

function multiset(keys: string[]): string {
  return [...keys].sort().join('\n');
}

/** What the header's stanzas say about recipients, in the same terms as ParsedRecipient.stanzaKey. */
function headerStanzaKeys(header: AgeHeader): string[] {
  return header.stanzas.map((args) =>
    args[0] === 'ssh-ed25519' || args[0] === 'ssh-rsa' ? `${args[0]} ${args[1]}` : (args[0] ?? ''),
  );
}

/**
 * True when the file already has exactly one stanza per listed recipient. SSH stanzas name their
 * key by tag; X25519 stanzas are anonymous, so for those only the count can be compared (a swap of
 * one age1 key for another needs `force`).
 */
export function headerMatches(
  header: AgeHeader,
  recipients: readonly ParsedRecipient[],
  armor: boolean,
): boolean {
  return (
    header.armored === armor &&
    multiset(headerStanzaKeys(header)) === multiset(recipients.map((r) => r.stanzaKey))
  );
}

/** The file re-encrypted to a temp file beside it, or why it was not. */
type Outcome = 'unchanged' | 'missing' | PendingFile;

async function rekeyFile(
  path: string,
  name: string,
  recipients: ParsedRecipient[],
  armor: boolean,
  opts: RekeyOptions,
): Promise<Outcome> {
  // Synchronous: a secret is a few hundred bytes in the page cache, and four thread-pool round
  // trips (open, fstat, read, close) would cost more than the reads.
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw err;
  }
  let data: Uint8Array;
  let mode: number;
  try {
    mode = fstatSync(fd).mode & 0o777;
    data = readFileSync(fd);
  } finally {
    closeSync(fd);
  }
  if (!opts.force && headerMatches(readHeader(data, name), recipients, armor)) return 'unchanged';
  const plaintext = await decryptSecret(data, opts.identities, name);
  try {
    // Only ciphertext is written; the temp file replaces the secret after its fsync.
    return writeTemp(path, await encryptSecret(plaintext, recipients, armor), mode);
  } finally {
    plaintext.fill(0);
  }
}

// Files are replaced in batches: re-encrypt and write a batch's temp files, fsync them all at once,
// rename them all, and flush each directory once at the end. Every file is on disk before its name
// points at it, as with one writeFileAtomic per file, but the journal commits that fsyncs force are
// shared by the batch instead of one per file interleaved with the next file's create (on ext4
// that interleaving made each create wait for a commit). One batch's fsyncs and renames (thread
// pool) overlap the next batch's crypto (main thread); at most two batches hold descriptors.
const BATCH = 64;

interface Pending {
  name: string;
  file: PendingFile;
}

export async function rekey(opts: RekeyOptions): Promise<RekeySummary> {
  const summary: RekeySummary = { rekeyed: [], unchanged: [], missing: [], failed: [] };
  const names = Object.keys(opts.rules).filter((name) => opts.only?.(name) ?? true);
  const parse = recipientParser();
  const fail = (file: string, err: unknown) => summary.failed.push({ file, error: (err as Error).message });
  const dirs = new Set<string>();
  // flushTemp and commitTemp remove the temp file themselves when they fail.
  const replace = async ({ name, file }: Pending) => {
    try {
      await flushTemp(file);
      await commitTemp(file);
      summary.rekeyed.push(name);
      dirs.add(dirname(file.path));
    } catch (err) {
      fail(name, err);
    }
  };
  let previous: Promise<unknown> = Promise.resolve();
  for (let start = 0; start < names.length; start += BATCH) {
    const pending: Pending[] = [];
    for (const name of names.slice(start, start + BATCH)) {
      const rule = opts.rules[name];
      if (rule === undefined) continue;
      try {
        const path = join(opts.secretsDir, name);
        const outcome = await rekeyFile(path, name, rule.publicKeys.map(parse), rule.armor, opts);
        if (typeof outcome === 'string') summary[outcome].push(name);
        else pending.push({ name, file: outcome });
      } catch (err) {
        fail(name, err);
      }
    }
    await previous;
    // allSettled never rejects, and `replace` records its own failures.
    previous = Promise.allSettled(pending.map(replace));
  }
  await previous;
  // Every rename is durable once its directory is flushed: once per directory, after all files.
  await Promise.all([...dirs].map(syncDirectory));
  for (const list of [summary.rekeyed, summary.unchanged, summary.missing]) list.sort();
  summary.failed.sort((a, b) => a.file.localeCompare(b.file));
  return summary;
}
