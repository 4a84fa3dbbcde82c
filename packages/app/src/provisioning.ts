// Wires provisioning's interfaces (core/provision/interfaces.ts) to the concrete adapters: ssh2 sessions pinned to
// the recorded host key, and packages/secrets' rekey over the fleet's secrets/ directory.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '@agentfleet/atomic-file';
import {
  type AgentConnector,
  type AgentSpec,
  allocationOf,
  type BuildOn,
  type HostKeyPolicy,
  isLocalUri,
  parsePublicKeyLine,
  type SecretsRekeyer,
} from '@agentfleet/core';
import {
  FleetProvisioner,
  type HostBuildDeps,
  hostBuildFor,
  type InFlightAgents,
  knownHostsFile,
  type ProvisionerDeps,
  sshConfigFile,
  sshUserOf,
} from '@agentfleet/engine';
import { type AgeIdentity, filesForRecipient, readRules, rekey } from '@agentfleet/secrets';
import { connectShell, waitForSsh } from '@agentfleet/ssh';
import { adminIdentityPaths, readAdminIdentities } from './admin-identity.js';
import { type AppContext, note } from './context.js';
import { UsageError } from './errors.js';
import type { Runtime } from './runtime.js';

function agentOf(rt: Runtime, name: string): AgentSpec {
  const agent = rt.fleet.agents.find((a) => a.name === name);
  if (!agent) throw new UsageError(`no agent named '${name}'`);
  return agent;
}

/** SSH sessions to agents on their allocated ports, as the fleet's login user and key. */
export function agentConnector(rt: Runtime): AgentConnector {
  return {
    async connect(name, opts = {}) {
      const agent = agentOf(rt, name);
      const alloc = allocationOf(rt.run.ledger, agent.libvirtUri, name);
      if (!alloc) throw new UsageError(`'${name}' has no allocation yet: run 'fleet up ${name}' first`);
      let hostKey: HostKeyPolicy;
      if (opts.acceptNewHostKey) {
        // Confirmed by the user (--rekey --yes); provisioning checks the key against the guest's
        // key file and re-pins it before anything depends on it.
        hostKey = { kind: 'first-contact', record: () => {} };
      } else if (opts.pinnedHostKey !== undefined) {
        hostKey = {
          kind: 'pinned',
          key: parsePublicKeyLine(opts.pinnedHostKey),
          source: knownHostsFile(rt.stateDir),
        };
      } else {
        throw new UsageError(`no pinned host key for '${name}' yet: run 'fleet up ${name}' first`);
      }
      const target = {
        who: name,
        host: '127.0.0.1',
        port: alloc.sshPort,
        user: sshUserOf(rt.run, agent),
        privateKey: await readFile(rt.run.identityFile, 'utf8'),
        hostKey,
      };
      // A remote agent's forward listens on its libvirt host's loopback: reached through that host's SSH.
      const uri = agent.libvirtUri;
      const dial = isLocalUri(uri)
        ? undefined
        : (host: string, port: number, timeoutMs: number) =>
            rt.connections.hosts.dial(uri, host, port, timeoutMs);
      if (!opts.waitReady)
        return connectShell(target, dial ? { sock: await dial(target.host, target.port, 20_000) } : {});
      // Back from a reboot: the guest gets the whole boot budget, stage by stage, as at bring-up.
      const budget = rt.fleet.config.bootTimeouts.sshSeconds * 1000;
      const ready = await waitForSsh(target, {
        ...(dial && { dial }),
        stages: {
          listening: { timeoutMs: budget },
          banner: { timeoutMs: budget },
          login: { timeoutMs: budget },
        },
      });
      return ready.shell;
    },
  };
}

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
