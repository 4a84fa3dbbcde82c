// zod schemas of the files as written (input shape, no transforms) so they also publish as JSON
// Schema for editors. Defaults and cross-field rules live in normalize.ts / rules.ts.
import { z } from 'zod';
import { MEMORY_PATTERN } from './memory.js';
import { AGENT_NAME_PATTERN, SECRET_NAME_PATTERN, UNIX_USER_PATTERN } from './names.js';

const MEMORY_HINT = 'write memory as e.g. 4GiB, 512MiB or a number of MiB';
const NAME_HINT = "use 1-31 lower-case letters, digits and inner '-', starting with a letter";
const SECRET_HINT = "secret names use letters, digits, '.', '_' and '-'";

const port = z.int().min(1).max(65535);
/** Paths end up in domain XML and shell-free argv; a line break or NUL there is always a mistake. */
const path = z.string().regex(/^[^\0\r\n]+$/, 'a path must be one non-empty line');
const libvirtUri = z
  .string()
  .regex(/^[a-z][a-z0-9+.-]*:\/\/\S*$/, 'not a libvirt URI (e.g. qemu:///session, qemu+ssh://host/session)');
const core = z.int().min(0).max(4095);

/** Guest mount points go into fw_cfg, Nix and mount(8) unquoted: plain absolute paths only. */
const guestPath = z
  .string()
  .regex(/^\/[A-Za-z0-9._/-]*$/, "an absolute guest path of letters, digits, '.', '_', '-' and '/'");

const hostName = z.string().regex(new RegExp(AGENT_NAME_PATTERN), NAME_HINT);

const networkMode = z
  .enum(['isolated', 'open', 'none'])
  .describe(
    'isolated: outside world only (passt, no host loopback); open: QEMU user networking, host loopback reachable; none: no egress',
  );

const mailServer = z.strictObject({
  host: z.string().regex(/^[A-Za-z0-9.-]+$/, 'a host name'),
  port: port.optional(),
});
const portRange = z.strictObject({
  start: port.describe('first port, inclusive'),
  end: port.optional().describe('last port, inclusive (default start + 99)'),
});

export const FleetFileSchema = z
  .strictObject({
    $schema: z.string().optional(),
    libvirtUri: libvirtUri.optional().describe('default libvirt URI (default qemu:///session)'),
    stateDir: path.optional().describe('runtime state directory (default ~/.agentvms)'),
    baseImage: path.optional().describe('base qcow2 (default <stateDir>/agent-base.qcow2)'),
    flake: z.string().min(1).optional().describe("flake with nixosConfigurations.agent-<name> (default '.')"),
    sshPorts: portRange.optional().describe('SSH forwarding ports (default 2223-2322)'),
    spicePorts: portRange.optional().describe('SPICE ports (default 5900-5999)'),
    reservedCores: z.array(core).optional().describe('host cores never pinned by agents (default [0])'),
    domainType: z.enum(['auto', 'kvm', 'qemu']).optional().describe('auto probes KVM, else TCG'),
    portForward: z
      .enum(['auto', 'passt', 'hostfwd'])
      .optional()
      .describe('network: open only: auto probes libvirt passt support'),
    network: networkMode.optional().describe('default network mode of the agents (default isolated)'),
    networkFirewall: z
      .enum(['auto', 'on', 'off'])
      .optional()
      .describe(
        "network: isolated: run each passt as the system user agentfleet-passt behind an nftables table that refuses its traffic to the host's own, private (RFC 1918, CGNAT), link-local and multicast addresses (root only); auto (default): on when fleet runs as root (for an agent on a remote host: when fleet logs in to it as root)",
      ),
    diskMode: z
      .enum(['copy', 'overlay'])
      .optional()
      .describe(
        'a qcow2 overlay on the base image (default), or a full copy (cloned where the filesystem can)',
      ),
    ssh: z
      .strictObject({
        user: z.string().regex(new RegExp(UNIX_USER_PATTERN), 'not a valid Unix user name').optional(),
        identityFile: path.optional(),
      })
      .optional()
      .describe("fleet's own SSH login (default: the base image's admin login `admin`, ~/.ssh/id_ed25519)"),
    adminIdentity: path
      .optional()
      .describe(
        'private key (SSH or age) that decrypts secrets for automatic rekeys (default: ~/.ssh/id_ed25519, ~/.ssh/id_rsa, the ssh key)',
      ),
    domainPrefix: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,31}$/, "use 1-32 lower-case letters, digits and '-', starting with a letter")
      .optional()
      .describe(
        "prepended to agent names to make libvirt domain names (default 'agent-'); set one per fleet sharing a host",
      ),
    hosts: z
      .record(
        hostName,
        z.strictObject({
          uri: libvirtUri.describe('libvirt URI of the host, e.g. qemu+ssh://user@host/system?keyfile=...'),
          reservedCores: z
            .array(core)
            .optional()
            .describe("host cores never pinned by agents (default: the fleet's reservedCores)"),
        }),
      )
      .optional()
      .describe(
        'libvirt hosts by name: agents name one with `host:`, or (naming neither host nor libvirtUri) are placed by capacity',
      ),
    unsafeLibvirtUris: z
      .array(libvirtUri)
      .optional()
      .describe('URIs allowed although they run programs or skip verification (each exactly as written)'),
    provision: z
      .strictObject({
        build: z
          .enum(['host', 'guest'])
          .optional()
          .describe(
            "host: build every agent's system on this host in one `nix build` and copy the closures in; guest: nixos-rebuild inside each agent (default)",
          ),
      })
      .optional()
      .describe('how agents get their NixOS system'),
    bootTimeouts: z
      .strictObject({
        sshSeconds: z.int().min(1).max(86400).optional(),
        shutdownSeconds: z.int().min(1).max(86400).optional(),
      })
      .optional(),
  })
  .describe('agentfleet fleet-wide settings (agents/fleet.yaml)');

export const AgentFileSchema = z
  .strictObject({
    $schema: z.string().optional(),
    name: z
      .string()
      .regex(new RegExp(AGENT_NAME_PATTERN), NAME_HINT)
      .optional()
      .describe('must equal the file name'),
    description: z.string().optional(),
    memory: z
      .union([z.int().positive(), z.string().regex(new RegExp(MEMORY_PATTERN), MEMORY_HINT)], {
        error: MEMORY_HINT,
      })
      .optional()
      .describe('RAM (default 4GiB)'),
    vcpus: z.int().min(1).max(256).optional().describe('virtual CPUs (default 2)'),
    cores: z.array(core).min(1).optional().describe('explicit host cores, one per vCPU'),
    ports: z
      .strictObject({ ssh: port.optional(), spice: port.optional() })
      .optional()
      .describe('explicit host ports (default: allocated)'),
    shareCores: z.boolean().optional().describe('allow pinning onto cores that others use (default false)'),
    user: z
      .string()
      .regex(new RegExp(UNIX_USER_PATTERN), 'not a valid Unix user name')
      .optional()
      .describe('Unix user (default: the name)'),
    git: z
      .strictObject({ name: z.string().min(1).optional(), email: z.email().optional() })
      .optional()
      .describe('git identity (default name: capitalized agent name; email: mail.address)'),
    mail: z
      .strictObject({
        address: z.email(),
        passwordSecret: z.string().regex(new RegExp(SECRET_NAME_PATTERN), SECRET_HINT).optional(),
        imap: mailServer.optional().describe('IMAP server (default mail.<domain of address>:993)'),
        smtp: mailServer.optional().describe('SMTP submission server (default mail.<domain of address>:465)'),
      })
      .optional(),
    tailscale: z
      .strictObject({
        tags: z.array(z.string().regex(/^tag:[a-z0-9-]+$/, 'tags look like tag:name')),
        authKeySecret: z
          .string()
          .regex(new RegExp(SECRET_NAME_PATTERN), SECRET_HINT)
          .optional()
          .describe('secret holding a tailscale auth key, for an unattended join'),
        loginServer: z
          .url({ protocol: /^https?$/ })
          .optional()
          .describe("control server, e.g. a headscale URL (default: Tailscale's own)"),
      })
      .optional(),
    desktop: z.boolean().optional().describe('GNOME desktop (default true)'),
    sudo: z
      .boolean()
      .optional()
      .describe(
        "the agent's user may sudo, i.e. is root in its VM: host key and every secret (default false)",
      ),
    shellAliases: z
      .record(
        z.string().regex(/^[A-Za-z0-9_.-]+$/, 'an alias name is letters, digits, ".", "_" or "-"'),
        z.string(),
      )
      .optional()
      .describe("shell aliases for the agent's user, added to the common ones"),
    secrets: z.array(z.string().regex(new RegExp(SECRET_NAME_PATTERN), SECRET_HINT)).optional(),
    libvirtUri: libvirtUri.optional().describe("libvirt URI (default: the fleet's)"),
    host: hostName
      .optional()
      .describe("a host of fleet.yaml's hosts (default: placed by capacity when fleet.yaml has hosts)"),
    network: networkMode.optional().describe("network mode (default: the fleet's)"),
    tags: z
      .array(
        z.string().regex(/^[a-z0-9][a-z0-9_.-]*$/, 'a tag is lowercase letters, digits, ".", "_" or "-"'),
      )
      .optional()
      .describe('labels that select agents in fleet commands, e.g. `fleet exec --tag T`'),
    autostart: z
      .boolean()
      .optional()
      .describe('libvirt starts the agent when libvirtd starts, e.g. after a host reboot (default false)'),
    shares: z
      .array(
        z.strictObject({
          source: path.describe(
            'host directory: absolute, ~/..., or relative to the fleet repository (never the state dir, keys or /etc)',
          ),
          target: guestPath.describe('mount point in the guest, e.g. /mnt/projects'),
          readOnly: z
            .boolean()
            .optional()
            .describe('the guest cannot write, enforced on the host, not by the guest (default true)'),
          tag: z
            .string()
            .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,35}$/, "a tag is 1-36 letters, digits, '.', '_' or '-'")
            .optional()
            .describe('virtiofs tag the guest mounts (default: the last part of target)'),
        }),
      )
      .optional()
      .describe('host directories mounted in the guest over virtiofs (needs qemu:///system on this machine)'),
  })
  .describe('one agentfleet agent (agents/<name>.yaml)');

export type FleetFile = z.infer<typeof FleetFileSchema>;
export type AgentFile = z.infer<typeof AgentFileSchema>;
