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
  const { Document, Scalar, visit } = yamlLib();
  const fleetId = ledger.fleetId;
  const doc = new Document({
    version: ledger.version,
    ...(fleetId !== undefined && { fleetId }),
    hosts: sortedHosts(ledger),
  });
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

function sortedHosts(ledger: Ledger): Ledger['hosts'] {
  const hosts: Ledger['hosts'] = {};
  for (const uri of Object.keys(ledger.hosts).sort()) {
    const entries = Object.entries(ledger.hosts[uri] ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
    if (entries.length > 0) hosts[uri] = Object.fromEntries(entries);
  }
  return hosts;
}
