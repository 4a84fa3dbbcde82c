import { agentConsolePty } from '@agentfleet/engine';
import type { AppContext } from './context.js';
import { openRuntime } from './runtime.js';

/**
 * `fleet console`: the pty of the running agent's serial port, which a front-end attaches to (raw,
 * detaching on CONSOLE_DETACH_BYTE); QEMU logs the same port to the file `consoleLog` reads.
 */
export async function agentConsole(ctx: AppContext, name: string): Promise<{ pty: string }> {
  const rt = await openRuntime(ctx, { names: [name], writeLedger: false });
  try {
    return { pty: await agentConsolePty(rt.run, rt.connections.connect, name) };
  } finally {
    await rt.close();
  }
}
