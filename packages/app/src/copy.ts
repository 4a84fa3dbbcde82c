// `fleet cp`: files between this machine and an agent, by SFTP over fleet's pinned SSH.
import type { CopyRequest } from '@agentfleet/core';
import { CopyRefusedError, copyFiles, type FileTransfer } from '@agentfleet/engine';
import { agentShells } from './agent-shells.js';
import type { AppContext } from './context.js';
import { UsageError } from './errors.js';
import { openRuntime } from './runtime.js';

/** Copies as `req` says (core's copyRequest reads it from `src dst`); returns where it landed. */
export async function copyWithAgent(ctx: AppContext, req: CopyRequest, recursive: boolean): Promise<string> {
  const rt = await openRuntime(ctx, { names: [req.agent], writeLedger: false, syncAgentsJson: false });
  try {
    const shells = await agentShells(rt);
    const pinned = await shells.pinnedKey(req.agent);
    if (!pinned)
      throw new UsageError(`no pinned host key for '${req.agent}' yet: run 'fleet up ${req.agent}' first`);
    // The connector's sessions are packages/ssh SshShells, which carry SFTP transfers beyond the core port.
    const shell = (await shells.connector.connect(req.agent, {
      pinnedHostKey: pinned,
    })) as unknown as FileTransfer & {
      close(): Promise<void>;
    };
    try {
      return await copyFiles(shell, req, recursive);
    } catch (err) {
      if (err instanceof CopyRefusedError) throw new UsageError(err.message);
      throw err;
    } finally {
      await shell.close();
    }
  } finally {
    await rt.close();
  }
}
