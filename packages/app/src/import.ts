import {
  FileHostKeyStore,
  ImportError,
  type ImportResult,
  importAgent,
  JsonStateStore,
  LocalDisks,
  stateFile,
} from '@agentfleet/engine';
import type { AppContext } from './context.js';
import { UsageError } from './errors.js';
import type { LockHolder } from './provision.js';
import { openRuntime, writeLedger } from './runtime.js';

/**
 * `fleet import`: adopt an existing domain named like a declared agent, recording its ports, cores,
 * MAC and disk in the ledger when they fit, then giving it this fleet's metadata. A dry run takes
 * no lock and changes nothing.
 */
export async function importDomain(
  ctx: AppContext,
  name: string,
  opts: { dryRun: boolean; lock: LockHolder },
): Promise<ImportResult> {
  const rt = await openRuntime(ctx, {
    names: [name],
    writeLedger: false,
    startsAgents: true,
    ...(!opts.dryRun && { lock: opts.lock.holder, ...(opts.lock.guard && { guard: opts.lock.guard }) }),
  });
  try {
    return await importAgent(
      rt.run,
      {
        connect: rt.connections.connect,
        disks: new LocalDisks(),
        state: new JsonStateStore(stateFile(rt.stateDir)),
        log: ctx.log,
        hostKeys: new FileHostKeyStore(rt.stateDir),
      },
      name,
      { dryRun: opts.dryRun, writeLedger: (ledger) => writeLedger(ctx, ledger) },
    );
  } catch (err) {
    throw err instanceof ImportError ? new UsageError(err.message) : err;
  } finally {
    await rt.close();
  }
}
