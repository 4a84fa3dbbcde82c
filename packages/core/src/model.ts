// The normalized fleet model: what the YAML means after defaults are filled in.
// Everything downstream (allocation, XML, plan, Nix generation) reads these types, never raw YAML.

export interface PortRange {
  /** First port of the range, inclusive. */
  start: number;
  /** Last port of the range, inclusive. */
  end: number;
}

export type DomainTypeSetting = 'auto' | 'kvm' | 'qemu';
export type PortForwardSetting = 'auto' | 'passt' | 'hostfwd';
export type DomainType = 'kvm' | 'qemu';
export type PortForward = 'passt' | 'hostfwd';
export type DiskMode = 'copy' | 'overlay';
/**
 * How an agent's guest reaches the network. `isolated`: a passt per agent that does not map the
 * host (no host loopback, no other agent's forwards); `open`: QEMU user networking, whose gateway
 * is the host's loopback (an explicit opt-out); `none`: no egress at all, only the SSH forward.
 */
export type NetworkMode = 'isolated' | 'open' | 'none';
/** Whether isolated agents' passt runs confined by fleet's nftables table (`auto`: when fleet is root). */
export type NetworkFirewallSetting = 'auto' | 'on' | 'off';

export interface FleetSshSettings {
  /** Login user for fleet's own SSH; undefined means the base image's admin login (ADMIN_USER). */
  user?: string;
  /** Private key fleet uses; may start with `~/` (the CLI expands it). */
  identityFile: string;
}

export interface BootTimeouts {
  /** Seconds from `start` until SSH must answer. */
  sshSeconds: number;
  /** Seconds a graceful ACPI shutdown may take before `down` gives up. */
  shutdownSeconds: number;
}

export interface FleetConfig {
  /** Default libvirt URI for agents that do not name one. */
  libvirtUri: string;
  /** Runtime state (disks, console logs, state.json, ssh_config); may start with `~/`. */
  stateDir: string;
  /** qcow2 every agent disk starts from; may start with `~/`, relative paths are relative to the fleet repo. */
  baseImage: string;
  /** Flake reference whose `nixosConfigurations.agent-<name>` configures each agent. */
  flake: string;
  sshPorts: PortRange;
  spicePorts: PortRange;
  /** Host cores never pinned by any agent. */
  reservedCores: number[];
  domainType: DomainTypeSetting;
  /** Only for `network: open`: how its SSH forward is made. */
  portForward: PortForwardSetting;
  /** Default network mode of the fleet's agents. */
  network: NetworkMode;
  networkFirewall: NetworkFirewallSetting;
  diskMode: DiskMode;
  ssh: FleetSshSettings;
  /** The key that decrypts secrets for every automatic rekey; may start with `~/`. */
  adminIdentity?: string;
  bootTimeouts: BootTimeouts;
  /** Prepended to agent names to make libvirt domain names (default `agent-`). */
  domainPrefix: string;
  /** Named libvirt hosts (fleet.yaml `hosts`); empty when the fleet runs on its one libvirtUri. */
  hosts: Record<string, HostConfig>;
  /** URIs the fleet opts into although they run programs or skip verification (see uri-safety). */
  unsafeLibvirtUris: string[];
  /** Where agents' NixOS systems are built (see BuildOn). */
  provision: { build: BuildOn };
}

/**
 * `guest`: `nixos-rebuild switch` inside each agent. `host`: one `nix build` of every agent's
 * toplevel on the fleet's host, closures copied in over the pinned SSH, then activated.
 */
export type BuildOn = 'host' | 'guest';
export interface HostConfig {
  uri: string;
  /** Host cores never pinned by any agent on this host. */
  reservedCores: number[];
}

export interface AgentGit {
  name: string;
  email: string;
}

export interface AgentMail {
  address: string;
  /** Name of the secret (in `secrets`) holding the mail password. */
  passwordSecret?: string;
  imap?: MailServer;
  smtp?: MailServer;
}

export interface MailServer {
  host: string;
  port?: number;
}

export interface AgentSpec {
  /** Safe as hostname, libvirt name (`agent-<name>`), file name and Unix user. */
  name: string;
  /** The YAML file this agent came from (for diagnostics). */
  file: string;
  description?: string;
  memoryMiB: number;
  vcpus: number;
  /** Explicit host cores, one per vCPU; undefined means "allocate". */
  cores?: number[];
  /** Explicit SSH port; undefined means "allocate". */
  sshPort?: number;
  /** Explicit SPICE port; undefined means "allocate". */
  spicePort?: number;
  /** Opt-in to pin onto cores other sharing agents or other domains use. */
  shareCores: boolean;
  /** Unix user inside the VM (defaults to the agent name). */
  user: string;
  git: AgentGit;
  mail?: AgentMail;
  tailscale?: {
    tags: string[];
    /** Secret (in `secrets`) holding a tailscale auth key. */
    authKeySecret?: string;
    /** Control server (e.g. headscale); undefined means Tailscale's own. */
    loginServer?: string;
  };
  desktop: boolean;
  /** The agent's user is in wheel (sudo): root in its VM. */
  sudo: boolean;
  /** Extra shell aliases for the agent's user. */
  shellAliases: Record<string, string>;
  /** Names of secrets (secrets/<name>.age) this agent may decrypt. */
  secrets: string[];
  /**
   * The agent's libvirt URI: its host's, the one it names, or (neither named) where it is placed: recorded in the
   * ledger, else by capacity when the ledger is allocated (see placement.ts); the fleet default without hosts.
   */
  libvirtUri: string;
  /** The fleet.yaml host the agent runs on, when its URI is one of them. */
  host?: string;
  /** Named neither host nor libvirtUri while fleet.yaml has hosts: fleet chooses (and records) where it runs. */
  placed: boolean;
  /** The agent's network mode (the fleet default when the YAML names none). */
  network: NetworkMode;
  /** Labels that select agents (`fleet exec --tag`). */
  tags: string[];
  /** libvirt autostart: the domain starts when libvirtd does. */
  autostart: boolean;
  /** Host directories mounted in the guest over virtiofs (see shares.ts). */
  shares: AgentShare[];
}

/** One `shares:` entry with its defaults. */
export interface AgentShare {
  /** Host directory as written (absolute, `~/...` or relative to the fleet repo): the CLI resolves it. */
  source: string;
  /** Absolute mount point in the guest. */
  target: string;
  /** virtiofs tag: what the guest names in `mount -t virtiofs TAG`. */
  tag: string;
  /** Enforced on the host (virtiofsd serves a read-only bind mount), not only by the guest's mount option. */
  readOnly: boolean;
}

export interface Fleet {
  config: FleetConfig;
  /** Sorted by name. */
  agents: AgentSpec[];
  /** The files as read, by path: diagnostics locate fields in them on demand (see Locator). */
  texts: Record<string, string>;
}

export const DEFAULT_DOMAIN_PREFIX = 'agent-';

/** libvirt domain name of an agent (fleet.yaml `domainPrefix` + name). */
export function domainName(agentName: string, prefix = DEFAULT_DOMAIN_PREFIX): string {
  return `${prefix}${agentName}`;
}

/**
 * The base image's admin login (hosts/common/access.nix, agentfleet.adminUser): the SSH user fleet
 * provisions through unless fleet.yaml's ssh.user says otherwise. Never an agent's user.
 */
export const ADMIN_USER = 'admin';
