import { access, rm } from 'node:fs/promises';
import { agentConsoleLog, agentDisk, agentRunDir, partialDiskOf } from './paths.js';
import { provisionLogPath } from './provision/agent-log.js';
import { pregeneratedKeyPath } from './provision/pregenerated-key.js';

/** One file (or directory) in the state dir that belongs to one agent. */
export interface AgentFile {
  path: string;
  /** What it is, for the list `destroy --purge` shows before deleting. */
  what: string;
  /** A directory, removed with everything under it. */
  dir?: boolean;
  /** Output of the guest on this agent's disk: it starts empty with a new disk. */
  log?: boolean;
}

/**
 * Every file fleet keeps for `agent` in the state dir, the disk first (the adopted one when the
 * ledger records one). The one list `destroy --purge` deletes: whatever creates a new per-agent
 * file adds it here (or puts it under agentRunDir), so a purge never leaves one behind.
 */
export function agentFiles(stateDir: string, agent: string, adoptedDisk?: string): AgentFile[] {
  // A name is a name: it must never walk out of the state dir.
  if (!/^[a-z][a-z0-9-]*$/.test(agent)) throw new Error(`'${agent}' is not an agent name`);
  const key = pregeneratedKeyPath(stateDir, agent);
  const disk = adoptedDisk ?? agentDisk(stateDir, agent);
  return [
    { path: disk, what: 'disk' },
    // A copy as big as the disk, left by a run killed while making it.
    { path: partialDiskOf(disk), what: 'partial disk (a killed run was making it)' },
    { path: agentConsoleLog(stateDir, agent), what: 'console log', log: true },
    { path: provisionLogPath(stateDir, agent), what: 'provisioning log', log: true },
    { path: `${provisionLogPath(stateDir, agent)}.1`, what: 'provisioning log (rotated)', log: true },
    { path: key, what: 'pre-generated host key' },
    { path: `${key}.pub`, what: 'pre-generated host key (public)' },
    { path: agentRunDir(stateDir, agent), what: 'runtime directory', dir: true },
  ];
}

/**
 * The agents' files in the state dir (logs, pre-generated keys, the runtime directory): which exist
 * (what a purge lists) and deleting them. Behind an interface so the engine's in-memory tests touch
 * no real path.
 */
export interface AgentFileStore {
  /** Those of `files` that exist right now. */
  existing(files: readonly AgentFile[]): Promise<AgentFile[]>;
  /** Deletes `files` (a directory with everything under it); one already gone is no error. */
  remove(files: readonly AgentFile[]): Promise<void>;
}

/** This machine's files (never a disk: Disks.remove owns those, with its checks). */
export class LocalAgentFiles implements AgentFileStore {
  async existing(files: readonly AgentFile[]): Promise<AgentFile[]> {
    const exists = await Promise.all(
      files.map((f) =>
        access(f.path).then(
          () => true,
          () => false,
        ),
      ),
    );
    return files.filter((_, i) => exists[i]);
  }

  async remove(files: readonly AgentFile[]): Promise<void> {
    for (const f of files) await rm(f.path, { force: true, recursive: f.dir === true });
  }
}

/**
 * A new disk is a new guest: its console and provisioning logs start empty, so a later message
 * quoting them (an SSH timeout's console tail) never shows an earlier guest's lines.
 */
export function removeAgentLogs(store: AgentFileStore, stateDir: string, agent: string): Promise<void> {
  return store.remove(agentFiles(stateDir, agent).filter((f) => f.log));
}
