// SSH sessions to agents, pinned to the host key fleet recorded. ssh2 loads on the first connection, not with this
// module: day-2 commands reach it for what they might do (logs --journal, exec), and most runs of them never connect.
import { readFile } from 'node:fs/promises';
import {
  type AgentConnector,
  type AgentSpec,
  allocationOf,
  type HostKeyPolicy,
  isLocalUri,
  parsePublicKeyLine,
} from '@agentfleet/core';
import { knownHostsFile, sshUserOf } from '@agentfleet/engine';
import { UsageError } from './errors.js';
import type { Runtime } from './runtime.js';

/** The runtime's agent called `name`. */
export function agentOf(rt: Runtime, name: string): AgentSpec {
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
      const { connectShell, waitForSsh } = await import('@agentfleet/ssh');
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
