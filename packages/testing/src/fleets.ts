// Test support: fleets from terse agent YAML snippets, and a sample domain XML input.
import { type DomainXmlInput, type Fleet, formatDiagnostic, loadFleet } from '@agentfleet/core';

/** A fleet from `fleet.yaml` text and agent name -> extra YAML lines (git email is filled in). */
export function fleetOf(agents: Record<string, string>, fleetYaml = '{}'): Fleet {
  const files = [
    { path: 'agents/fleet.yaml', text: fleetYaml },
    ...Object.entries(agents).map(([name, yaml]) => ({
      path: `agents/${name}.yaml`,
      text: `git: { email: ${name}@example.com }\n${yaml}\n`,
    })),
  ];
  const r = loadFleet(files);
  if (!r.ok) throw new Error(r.diagnostics.map(formatDiagnostic).join('\n'));
  return r.value;
}

export const sampleInput: DomainXmlInput = {
  agent: { name: 'drago', memoryMiB: 4096, vcpus: 2 },
  allocation: { sshPort: 2223, spicePort: 5900, cores: [1, 3], mac: '52:54:00:12:34:56' },
  domainType: 'qemu',
  network: { mode: 'isolated', socketPath: '/home/u/.agentvms/run/agent-drago/passt.sock' },
  spiceSocket: '/home/u/.agentvms/run/agent-drago/spice.sock',
  diskPath: '/home/u/.agentvms/agent-drago.qcow2',
  consoleLogPath: '/home/u/.agentvms/agent-drago.console.log',
  fwcfgFiles: { authorized_keys: '/home/u/.agentvms/keys/authorized_keys' },
};
