// In-memory ports for engine tests (the e2e suite runs the same engine on libvirt, disks and ssh).
import {
  allocate,
  type BaseIdentity,
  type DiskInfo,
  type DiskRequest,
  type Disks,
  emptyFleetState,
  type FleetState,
  type GuestNetworkSpec,
  type GuestNetworks,
  type HostProbe,
  loadFleet,
  type ProgressEvent,
  type Readiness,
  type ReadinessTarget,
  type StateStore,
} from '@agentfleet/core';
import {
  type AgentFile,
  type AgentFileStore,
  type EngineDeps,
  type FleetRun,
  type HostKeyPair,
  type HostKeyStore,
  silentLog,
} from '@agentfleet/engine';
import { FakeHypervisor } from './fake-hypervisor.js';

export class MemoryDisks implements Disks {
  readonly disks = new Map<string, DiskRequest>();
  created = 0;
  identity: BaseIdentity = { path: '/img/base.qcow2', size: 1 << 20, mtimeMs: 1, headSha256: 'aa' };

  async inspect(path: string): Promise<DiskInfo> {
    const d = this.disks.get(path);
    if (!d) return { exists: false };
    return d.mode === 'overlay'
      ? { exists: true, format: 'qcow2', backingFile: d.base }
      : { exists: true, format: 'qcow2' };
  }
  async baseIdentity(): Promise<BaseIdentity> {
    return this.identity;
  }
  async create(req: DiskRequest, onProgress: (done: number, total: number) => void): Promise<void> {
    if (this.disks.has(req.path)) throw new Error(`refusing to overwrite existing disk ${req.path}`);
    onProgress(this.identity.size, this.identity.size);
    this.disks.set(req.path, req);
    this.created++;
  }
  async remove(path: string): Promise<void> {
    this.disks.delete(path);
  }
}

/** Pre-generated host keys in memory: the engine's tests touch no state dir. */
export class MemoryHostKeys implements HostKeyStore {
  readonly keys = new Map<string, HostKeyPair>();
  async read(agent: string): Promise<HostKeyPair | undefined> {
    return this.keys.get(agent);
  }
  async write(agent: string, pair: HostKeyPair): Promise<void> {
    this.keys.set(agent, pair);
  }
  async remove(agent: string): Promise<void> {
    this.keys.delete(agent);
  }
  fwcfgPath(agent: string): string {
    return `/state/hostkeys/agent-${agent}_ed25519`;
  }
}

/** The agents' state-dir files as a set of paths: the engine's tests touch no state dir. */
export class MemoryAgentFiles implements AgentFileStore {
  readonly paths = new Set<string>();
  async existing(files: readonly AgentFile[]): Promise<AgentFile[]> {
    return files.filter((f) => this.paths.has(f.path));
  }
  async remove(files: readonly AgentFile[]): Promise<void> {
    for (const f of files) this.paths.delete(f.path);
  }
}

export class MemoryStateStore implements StateStore {
  state: FleetState = emptyFleetState();
  async load(): Promise<FleetState> {
    return structuredClone(this.state);
  }
  async save(state: FleetState): Promise<void> {
    this.state = structuredClone(state);
  }
}

/** Answers like a booted guest: every agent has its own fixed host key. */
export class FakeReadiness implements Readiness {
  inFlight = 0;
  maxInFlight = 0;
  calls: ReadinessTarget[] = [];
  failFor = new Set<string>();
  keyOf = (agent: string) => `ssh-ed25519 AAAAkey-of-${agent}`;

  async wait(target: ReadinessTarget): Promise<{ hostKey: string }> {
    this.calls.push(target);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise((r) => setTimeout(r, 5));
    this.inFlight--;
    if (this.failFor.has(target.agent)) throw new Error(`ssh to ${target.agent} timed out (login stage)`);
    const key = this.keyOf(target.agent);
    if (target.pinnedHostKey !== undefined && target.pinnedHostKey !== key) {
      // Named as @agentfleet/ssh names it: the engine tells a changed key from other failures by it.
      throw Object.assign(new Error(`host key of ${target.agent} does not match its pinned key`), {
        name: 'HostKeyMismatchError',
      });
    }
    return { hostKey: key };
  }
}

export class FakeHostProbe implements HostProbe {
  deafPorts = new Set<number>();
  async listensOnLoopback(port: number): Promise<boolean> {
    return !this.deafPorts.has(port);
  }
  async consoleTail(): Promise<string[]> {
    return ['[    1.0] booting', 'TESTVM READY'];
  }
}

/** passt as the engine sees it: a set of sockets being served. */
export class FakeGuestNetworks implements GuestNetworks {
  readonly running = new Map<string, GuestNetworkSpec>();
  readonly dirs = new Set<string>();
  started = 0;
  async prepareDir(dir: string): Promise<void> {
    this.dirs.add(dir);
  }
  async ensure(spec: GuestNetworkSpec): Promise<void> {
    if (this.running.has(spec.socketPath)) return;
    this.running.set(spec.socketPath, spec);
    this.started++;
  }
  async isRunning(socketPath: string): Promise<boolean> {
    return this.running.has(socketPath);
  }
  async stop(socketPath: string): Promise<void> {
    this.running.delete(socketPath);
  }
}

export function agentYaml(name: string, memory = '512MiB'): string {
  return `memory: ${memory}\nvcpus: 1\ngit: { email: ${name}@example.org }\n`;
}

export function fleetYaml(extra = ''): string {
  return `stateDir: /state
baseImage: /img/base.qcow2
domainType: qemu
portForward: hostfwd
diskMode: overlay
reservedCores: []
ssh: { user: root, identityFile: /keys/id }
bootTimeouts: { sshSeconds: 5, shutdownSeconds: 1 }
${extra}`;
}

export const TEST_FLEET_ID = 'test-fleet-0001';

/** A FleetRun from YAML texts, allocated on a 4-core fake host. */
export function fleetRun(
  agents: Record<string, string>,
  fleet = fleetYaml(),
  names: string[] = [],
): FleetRun {
  const loaded = loadFleet([
    { path: 'agents/fleet.yaml', text: fleet },
    ...Object.entries(agents).map(([n, text]) => ({ path: `agents/${n}.yaml`, text })),
  ]);
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.diagnostics));
  const uri = loaded.value.config.libvirtUri;
  const ledger = allocate(undefined, loaded.value, [{ uri, cpus: 4, listeningPorts: [], domains: [] }]);
  if (!ledger.ok) throw new Error(JSON.stringify(ledger.diagnostics));
  return {
    fleet: loaded.value,
    ledger: { ...ledger.value, fleetId: TEST_FLEET_ID },
    fleetDir: '/fleet',
    stateDir: '/state',
    baseImage: '/img/base.qcow2',
    identityFile: '/keys/id',
    names,
  };
}

export interface TestWorld {
  hv: FakeHypervisor;
  disks: MemoryDisks;
  store: MemoryStateStore;
  readiness: FakeReadiness;
  host: FakeHostProbe;
  networks: FakeGuestNetworks;
  hostKeys: MemoryHostKeys;
  files: MemoryAgentFiles;
  events: ProgressEvent[];
  deps: EngineDeps;
}

export function testWorld(): TestWorld {
  const hv = new FakeHypervisor('qemu:///session');
  const disks = new MemoryDisks();
  const store = new MemoryStateStore();
  const readiness = new FakeReadiness();
  const host = new FakeHostProbe();
  const networks = new FakeGuestNetworks();
  const hostKeys = new MemoryHostKeys();
  const files = new MemoryAgentFiles();
  const events: ProgressEvent[] = [];
  return {
    hv,
    disks,
    store,
    readiness,
    host,
    networks,
    hostKeys,
    files,
    events,
    deps: {
      connect: async () => hv,
      disks,
      state: store,
      readiness,
      host,
      networks,
      hostKeys,
      files,
      progress: (e) => events.push(e),
      log: silentLog,
    },
  };
}
