// Wires provisioning's interfaces (core/provision/interfaces.ts) to the concrete adapters: SSH sessions pinned to
// the recorded host key (agent-connector.ts), and packages/secrets' rekey over the fleet's secrets/ directory.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '@agentfleet/atomic-file';
import type { BuildOn, SecretsRekeyer } from '@agentfleet/core';
import {
  FleetProvisioner,
  type HostBuildDeps,
  hostBuildFor,
  type InFlightAgents,
  type ProvisionerDeps,
  sshConfigFile,
  sshUserOf,
} from '@agentfleet/engine';
import { type AgeIdentity, filesForRecipient, readRules, rekey } from '@agentfleet/secrets';
import { adminIdentityPaths, readAdminIdentities } from './admin-identity.js';
import { agentConnector, agentOf } from './agent-connector.js';
import { type AppContext, note } from './context.js';
import type { Runtime } from './runtime.js';

/**
 * Host keys as data under `secretsDir`/hosts/<agent>.pub (which secrets.nix reads), and the
 * agent's secrets rekeyed with packages/secrets' API using the admin identities.
 */
export function secretsRekeyer(
  secretsDir: string,
  identityPaths: readonly string[],
  askPassphrase?: (path: string) => Promise<string>,
): SecretsRekeyer {
  // Agents provisioned in parallel may share a secret: one rekey at a time, each evaluating the
  // rules after the previous one wrote, so a later rekey never drops a key an earlier one added.
  let queue: Promise<unknown> = Promise.resolve();
  const serialized = <T>(work: () => Promise<T>): Promise<T> => {
    const result = queue.then(work);
    queue = result.catch(() => undefined);
    return result;
  };
  return {
    async recordHostKey(agent, line) {
      await writeFileAtomic(join(secretsDir, 'hosts', `${agent}.pub`), `${line}\n`, 0o644);
    },
    rekeyAgent: (agent) =>
      serialized(async () => {
        const rulesFile = join(secretsDir, 'secrets.nix');
        // A fleet without agenix rules has nothing to re-encrypt.
        if (!existsSync(rulesFile)) return { rekeyed: [], unchanged: [], failed: [] };
        const pub = (await readFile(join(secretsDir, 'hosts', `${agent}.pub`), 'utf8')).trim();
        const rules = await readRules(rulesFile);
        const files = new Set(filesForRecipient(rules, pub));
        const identities: AgeIdentity[] = await readAdminIdentities(identityPaths, askPassphrase);
        const summary = await rekey({ secretsDir, rules, identities, only: (file) => files.has(file) });
        return {
          rekeyed: summary.rekeyed,
          unchanged: summary.unchanged,
          failed: [
            ...summary.failed.map((f) => ({ file: f.file, message: f.error })),
            // A secret the agent gets but nobody has created yet cannot be decrypted in the VM.
            ...summary.missing.map((file) => ({ file, message: 'no such file in secrets/' })),
          ],
        };
      }),
  };
}

/** Everything provisioning needs except the per-run store and reporter. */
export function provisionerDeps(ctx: AppContext, rt: Runtime): ProvisionerDeps {
  return {
    connector: agentConnector(rt),
    secrets: secretsRekeyer(
      join(ctx.dir, 'secrets'),
      adminIdentityPaths(ctx, rt.fleet, rt.run.identityFile),
      ctx.askPassphrase,
    ),
    stateDir: rt.stateDir,
    fleetDir: ctx.dir,
    flake: rt.fleet.config.flake,
    sshUserOf: (name) => sshUserOf(rt.run, agentOf(rt, name)),
    secretsOf: (name) => agentOf(rt, name).secrets,
  };
}

/** `fleet up`'s hand-over: continue into provisioning once an agent answers SSH. */
export async function fleetProvisioner(
  ctx: AppContext,
  rt: Runtime,
  buildOn: BuildOn | undefined,
  inFlight: InFlightAgents,
): Promise<FleetProvisioner> {
  const host = await hostBuildOf(ctx, rt, buildOn, inFlight);
  return new FleetProvisioner({ ...provisionerDeps(ctx, rt), ...(host && { host }) });
}

/**
 * `build: host` (fleet.yaml's provision.build, or --build-on): one builder for the run, and nix copy
 * reaching agents through the fleet's ssh_config, refreshed first so it pins the keys recorded so far.
 */
export function hostBuildOf(
  ctx: AppContext,
  rt: Runtime,
  buildOn?: BuildOn,
  inFlight?: InFlightAgents,
): Promise<HostBuildDeps | undefined> {
  return hostBuildFor({
    build: buildOn ?? rt.fleet.config.provision.build,
    source: { flake: rt.fleet.config.flake, fleetDir: ctx.dir, stateDir: rt.stateDir },
    sshConfig: async () => {
      const { refreshSshFiles } = await import('./ssh-files.js');
      await refreshSshFiles(rt);
      return sshConfigFile(rt.stateDir);
    },
    note: (text) => note(ctx, text),
    ...(inFlight && { inFlight }),
  });
}
