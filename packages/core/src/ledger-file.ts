import { z } from 'zod';
import { fail, ok, type Result } from './diagnostics.js';
import { yamlLib } from './lazy-libs.js';
import type { Ledger } from './ledger.js';
import { AGENT_NAME_PATTERN } from './names.js';
import { parseValidated } from './yaml-validate.js';

const MAC_PATTERN = /^52:54:00(:[0-9a-f]{2}){3}$/;

const AllocationSchema = z.strictObject({
  sshPort: z.int().min(1).max(65535),
  spicePort: z.int().min(1).max(65535),
  cores: z.array(z.int().min(0)).min(1),
  mac: z.string().regex(MAC_PATTERN, 'MAC addresses look like 52:54:00:xx:xx:xx (lower-case hex)'),
  disk: z
    .string()
    .regex(/^\/[^\0\r\n]*$/, 'an adopted disk is an absolute path')
    .optional(),
});

export const FLEET_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9-]{7,63}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const LedgerSchema = z.strictObject({
  version: z.literal(1),
  fleetId: z
    .string()
    .regex(FLEET_ID_PATTERN, "a fleet id is 8-64 letters, digits and '-' (fleet writes a UUID)")
    .optional(),
  hosts: z.record(
    z.string().min(1),
    z.record(z.string().regex(new RegExp(AGENT_NAME_PATTERN)), AllocationSchema),
  ),
});

const HEADER = [
  'Allocation ledger, written by `fleet allocate`. Commit it, like a lock file.',
  "Entries never move when agents are added or removed; edit an agent's YAML (ports/cores) to move it.",
].join('\n');

/** Parse agents/ledger.yaml; `file` is used in diagnostics. */
export function parseLedger(text: string, file: string): Result<Ledger> {
  const parsed = parseValidated(file, text, LedgerSchema);
  return Array.isArray(parsed) ? fail(parsed) : ok({ ...parsed, source: { file, text } });
}

/** YAML text of a ledger, deterministic (sorted) so diffs stay small. */
export function renderLedger(ledger: Ledger): string {
  const hosts = sortedHosts(ledger);
  return (
    renderLedgerFast(ledger.version, hosts, ledger.fleetId) ??
    renderLedgerYaml(ledger.version, hosts, ledger.fleetId)
  );
}

function sortedHosts(ledger: Ledger): Ledger['hosts'] {
  const hosts: Ledger['hosts'] = {};
  for (const uri of Object.keys(ledger.hosts).sort()) {
    const entries = Object.entries(ledger.hosts[uri] ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
    if (entries.length > 0) hosts[uri] = Object.fromEntries(entries);
  }
  return hosts;
}

/** Keys the `yaml` library writes as plain scalars: agent names (not null/true/false) and plain URIs. */
const PLAIN_NAME = /^[a-z](?:[a-z0-9-]{0,29}[a-z0-9])?$/;
const PLAIN_URI = /^[a-z][a-z0-9+.-]*:\/\/[A-Za-z0-9._~/@+-]{0,200}$/;
const NOT_PLAIN = new Set(['null', 'true', 'false']);
const isCount = (n: unknown): n is number =>
  Number.isSafeInteger(n) && (n as number) >= 0 && !Object.is(n, -0);

/**
 * The ledger as the `yaml` library writes it (renderLedgerYaml), built directly for ledgers
 * whose every key and value has one obvious spelling; undefined otherwise. Loading and running
 * the library's stringifier costs ~100 ms on 500 agents, more than allocating them.
 * `ledger-file.test.ts` checks both write the same text.
 */
export function renderLedgerFast(
  version: number,
  hosts: Ledger['hosts'],
  fleetId?: string,
): string | undefined {
  const uris = Object.keys(hosts);
  if (version !== 1 || uris.length === 0) return undefined;
  if (fleetId !== undefined && !UUID.test(fleetId)) return undefined;
  const out = [`# ${HEADER.replaceAll('\n', '\n# ')}`, '', `version: ${version}`];
  if (fleetId !== undefined) out.push(`fleetId: ${fleetId}`);
  out.push('hosts:');
  for (const uri of uris) {
    if (!PLAIN_URI.test(uri) || uri.endsWith(':')) return undefined;
    out.push(`  ${uri}:`);
    for (const [name, alloc] of Object.entries(hosts[uri] ?? {})) {
      if (!PLAIN_NAME.test(name) || NOT_PLAIN.has(name)) return undefined;
      out.push(`    ${name}:`);
      const fields = Object.entries(alloc);
      if (fields.length === 0) return undefined;
      for (const [key, value] of fields) {
        if ((key === 'sshPort' || key === 'spicePort') && isCount(value)) out.push(`      ${key}: ${value}`);
        else if (key === 'cores' && Array.isArray(value) && value.length > 0 && value.every(isCount))
          out.push(`      cores: [${value.join(', ')}]`);
        else if (key === 'mac' && typeof value === 'string' && MAC_PATTERN.test(value))
          out.push(`      mac: "${value}"`);
        else return undefined;
      }
    }
  }
  return `${out.join('\n')}\n`;
}

/** The ledger written by the `yaml` library: the reference renderLedgerFast follows. */
export function renderLedgerYaml(version: number, hosts: Ledger['hosts'], fleetId?: string): string {
  const { Document, Scalar, visit } = yamlLib();
  const doc = new Document({ version, ...(fleetId !== undefined && { fleetId }), hosts });
  doc.commentBefore = ` ${HEADER.replaceAll('\n', '\n ')}`;
  visit(doc, {
    Seq(_key, node) {
      node.flow = true;
    },
    Scalar(_key, node) {
      // Quoted so YAML 1.1 readers never take a MAC for a sexagesimal number.
      if (typeof node.value === 'string' && MAC_PATTERN.test(node.value)) node.type = Scalar.QUOTE_DOUBLE;
    },
  });
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}
