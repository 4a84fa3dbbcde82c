import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { addAgent } from '@agentfleet/app/add';
import { type Command, Option } from 'commander';
import { stringify } from 'yaml';
import { contextOf } from '../context.js';
import { printResult } from '../output.js';
import { agentName } from './agent-name.js';
import { positiveInt } from './up.js';

interface AddOptions {
  memory?: string;
  vcpus?: number;
  user?: string;
  description?: string;
  shareCores?: boolean;
  desktop?: boolean;
  gitName?: string;
  gitEmail?: string;
}

export function registerAdd(program: Command): void {
  program
    .command('add')
    .description('declare a new agent: write agents/<name>.yaml, allocate it, regenerate hosts/agents.json')
    .argument('<name>', 'agent name (a hostname, Unix user and file name)', agentName)
    .option('--memory <size>', 'RAM, e.g. 4GiB')
    .option('--vcpus <n>', 'virtual CPUs', positiveInt)
    .option('--user <user>', 'Unix user inside the VM (default: the name)')
    .option('--description <text>', 'what the agent is for')
    .option('--git-name <name>', 'git author name (default: the capitalized name)')
    .option('--git-email <email>', 'git author email (required unless the YAML gets a mail address)')
    .option('--share-cores', 'allow pinning onto cores other agents use')
    .addOption(new Option('--no-desktop', 'no GNOME desktop'))
    .action(async (name: string, opts: AddOptions, command: Command) => {
      const ctx = contextOf(command);
      const doc: Record<string, unknown> = {};
      if (opts.description !== undefined) doc.description = opts.description;
      if (opts.memory !== undefined) doc.memory = opts.memory;
      if (opts.vcpus !== undefined) doc.vcpus = opts.vcpus;
      if (opts.user !== undefined) doc.user = opts.user;
      if (opts.shareCores) doc.shareCores = true;
      if (opts.desktop === false) doc.desktop = false;
      if (opts.gitName !== undefined || opts.gitEmail !== undefined) {
        doc.git = {
          ...(opts.gitName !== undefined && { name: opts.gitName }),
          ...(opts.gitEmail !== undefined && { email: opts.gitEmail }),
        };
      }
      const text = `# yaml-language-server: $schema=${agentSchemaRef(ctx.dir)}\n${Object.keys(doc).length ? stringify(doc) : '{}\n'}`;

      // The fleet as it will be is validated before anything is written.
      const { file, allocation: alloc } = await addAgent(ctx, name, text, `fleet add ${name}`);
      printResult(
        ctx,
        `added ${file}${alloc ? ` (ssh ${alloc.sshPort}, spice ${alloc.spicePort}, cores ${alloc.cores.join(',')})` : ''}; bring it up with: fleet up ${name}`,
        { ok: true, file, allocation: alloc },
      );
    });
}

/**
 * The agent schema as the new file's modeline names it: relative to agents/, so the link holds for a
 * fleet anywhere (not only at this repository's root), pointing into the installed @agentfleet/core.
 */
export function agentSchemaRef(fleetDir: string): string {
  // packages/cli/dist/commands/add.js -> packages/core/schema/ (the workspace layout the CLI ships in).
  const schema = fileURLToPath(new URL('../../../core/schema/agent.schema.json', import.meta.url));
  return relative(join(fleetDir, 'agents'), schema);
}
