import { agentSnapshots, deleteAgentSnapshot, revertAgent, snapshotAgent } from '@agentfleet/app/snapshots';
import type { Command } from 'commander';
import { contextOf } from '../context.js';
import { UsageError } from '../errors.js';
import { printResult } from '../output.js';
import { agentName } from './agent-name.js';
import { formatTable } from './table.js';

const SNAPSHOT_HELP = `
Snapshots are internal qcow2 snapshots inside the agent's own disk (the overlay or copy, never the
shared base image), made by libvirt. A running agent's snapshot also holds its memory (the guest
pauses for a moment), and a revert resumes it exactly there; a shut-off agent's snapshot is its disk.
Labels: 1-64 letters, digits, '.', '_' or '-'; without one, the UTC time (20261129-081500).`;

export function registerSnapshot(program: Command): void {
  program
    .command('snapshot')
    .description("snapshot an agent's disk (and memory when it runs); --delete removes one")
    .argument('<name>', 'agent', agentName)
    .argument('[label]', 'snapshot label (default: the UTC time)')
    .option('--delete', 'delete the snapshot <label> instead')
    .addHelpText(
      'after',
      `${SNAPSHOT_HELP}

Examples:
  fleet snapshot drago before-upgrade
  fleet snapshots drago
  fleet revert drago before-upgrade
  fleet snapshot drago before-upgrade --delete`,
    )
    .action(async (name: string, label: string | undefined, opts: { delete?: boolean }, command: Command) => {
      const ctx = contextOf(command);
      if (opts.delete && label === undefined)
        throw new UsageError('--delete needs the label of the snapshot to delete');
      const snap = opts.delete
        ? await deleteAgentSnapshot(ctx, name, label as string)
        : await snapshotAgent(ctx, name, label);
      printResult(
        ctx,
        opts.delete
          ? `deleted snapshot ${snap.label} of ${name}`
          : `${name}: snapshot ${snap.label} (${snap.state})`,
        { agent: name, snapshot: snap, deleted: opts.delete === true },
      );
    });
}

export function registerSnapshots(program: Command): void {
  program
    .command('snapshots')
    .description("an agent's snapshots, oldest first")
    .argument('<name>', 'agent', agentName)
    .addHelpText(
      'after',
      `${SNAPSHOT_HELP}\n\nExamples:\n  fleet snapshots drago\n  fleet --json snapshots drago | jq -r '.snapshots[].label'`,
    )
    .action(async (name: string, _opts, command: Command) => {
      const ctx = contextOf(command);
      const snaps = await agentSnapshots(ctx, name);
      printResult(
        ctx,
        snaps.length === 0
          ? `${name} has no snapshots (take one: fleet snapshot ${name} LABEL)`
          : formatTable(
              ['LABEL', 'TAKEN', 'STATE'],
              snaps.map((s) => [s.label, s.createdAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'), s.state]),
            ),
        { agent: name, snapshots: snaps },
      );
    });
}

export function registerRevert(program: Command): void {
  program
    .command('revert')
    .description(
      'put an agent back to a snapshot: its disk, and its memory for a snapshot taken while it ran',
    )
    .argument('<name>', 'agent', agentName)
    .argument('<label>', 'snapshot label (fleet snapshots NAME lists them)')
    .addHelpText(
      'after',
      `${SNAPSHOT_HELP}
Everything written since the snapshot is lost; the agent keeps its identity (host key, secrets),
which the snapshot holds too.

Examples:
  fleet revert drago before-upgrade`,
    )
    .action(async (name: string, label: string, _opts, command: Command) => {
      const ctx = contextOf(command);
      const snap = await revertAgent(ctx, name, label);
      printResult(ctx, `${name}: reverted to snapshot ${snap.label} (${snap.state})`, {
        agent: name,
        snapshot: snap,
      });
    });
}
