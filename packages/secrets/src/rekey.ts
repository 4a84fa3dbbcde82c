// `agenix -r`, in process: every affected secret is decrypted with the admin's identities and
// re-encrypted in memory to exactly the recipients its rule lists. Files whose header already
// shows those recipients are left alone, so a rekey does not churn git.
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type AgeHeader, decryptSecret, encryptSecret, readHeader } from './age-file.js';
import { syncDirectory, writeFileAtomic } from './atomic-write.js';
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

type Outcome = 'rekeyed' | 'unchanged' | 'missing';

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
    const encrypted = await encryptSecret(plaintext, recipients, armor);
    // The directory is flushed once at the end of the rekey, not once per file.
    await writeFileAtomic(path, encrypted, mode, { syncDir: false });
  } finally {
    plaintext.fill(0);
  }
  return 'rekeyed';
}

// Files are independent; with several in flight, one file's fsync and rename (on the thread pool)
// overlap the next files' crypto (on the main thread).
const CONCURRENCY = 16;

export async function rekey(opts: RekeyOptions): Promise<RekeySummary> {
  const summary: RekeySummary = { rekeyed: [], unchanged: [], missing: [], failed: [] };
  const names = Object.keys(opts.rules).filter((name) => opts.only?.(name) ?? true);
  const parse = recipientParser();
  const one = async (name: string) => {
    const rule = opts.rules[name];
    if (rule === undefined) return;
    try {
      const recipients = rule.publicKeys.map(parse);
      summary[await rekeyFile(join(opts.secretsDir, name), name, recipients, rule.armor, opts)].push(name);
    } catch (err) {
      summary.failed.push({ file: name, error: (err as Error).message });
    }
  };
  let next = 0;
  const worker = async () => {
    while (next < names.length) await one(names[next++] as string);
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, names.length) }, worker));
  // Every rename is durable once its directory is flushed: once per directory, after all files.
  const dirs = new Set(summary.rekeyed.map((name) => dirname(join(opts.secretsDir, name))));
  await Promise.all([...dirs].map(syncDirectory));
  for (const list of [summary.rekeyed, summary.unchanged, summary.missing]) list.sort();
  summary.failed.sort((a, b) => a.file.localeCompare(b.file));
  return summary;
}
