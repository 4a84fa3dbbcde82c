import type { RetiredHostKeys } from '@agentfleet/app/host-keys';
import type { CliContext } from '../context.js';

/** What destroy --purge and remove say about the host keys they retired. */
export function printRetiredHostKeys(ctx: CliContext, r: RetiredHostKeys): void {
  if (r.retired.length > 0 && !ctx.json) {
    const files = r.retired.map((a) => `secrets/hosts/${a}.pub`).join(', ');
    const rekeyed = r.rekeyed.length > 0 ? `; re-encrypted without it: ${r.rekeyed.join(', ')}` : '';
    process.stdout.write(`removed ${files}${rekeyed}\n`);
  }
  if (r.warning !== undefined) process.stderr.write(`warning: ${r.warning}\n`);
}
