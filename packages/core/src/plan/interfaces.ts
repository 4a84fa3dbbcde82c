// Ports the engine drives while applying a plan. Adapters live in the engine and ssh packages;
// tests substitute in-memory fakes. Nothing here performs I/O.
import type { DiskMode } from '../model.js';
import type { ProvisionStore } from '../provision/interfaces.js';
import type { BaseVolume } from './base-gc.js';
import type { FleetState } from './state.js';
import type { Plan, StepKind } from './types.js';

/** What identifies a base image well enough to notice it was replaced under an overlay. */
export interface BaseIdentity {
  /** Resolved absolute path. */
  path: string;
  size: number;
  mtimeMs: number;
  /** SHA-256 of the first MiB: cheap, and differs between two builds of an image. */
  headSha256: string;
}

export interface DiskInfo {
  exists: boolean;
  format?: 'qcow2' | 'raw';
  /** Backing file recorded in a qcow2 overlay's header. */
  backingFile?: string;
}

export interface DiskRequest {
  path: string;
  base: string;
  mode: DiskMode;
  /** The libvirt host the disk is for (a remote host's disks are volumes there); this machine when absent. */
  uri?: string;
}

/** Agent disks; `uri` names the libvirt host whose disk is meant (this machine when absent). */
export interface Disks {
  inspect(path: string, uri?: string): Promise<DiskInfo>;
  /** The base image on this machine, where every disk is made from. */
  baseIdentity(base: string): Promise<BaseIdentity>;
  /** Creates the disk; must refuse (throw) when `path` already exists. */
  create(req: DiskRequest, onProgress: (done: number, total: number) => void): Promise<void>;
  remove(path: string, uri?: string): Promise<void>;
  /** Base image volumes on remote hosts (absent where every disk is a local file). */
  bases?: BaseVolumes;
}

/** The base image's copies on remote hosts: one volume per image content, shared by the disks made from it. */
export interface BaseVolumes {
  /** The base volumes in the fleet's pool on `uri`'s host, with the disk volumes each backs; none without a pool. */
  list(uri: string): Promise<BaseVolume[]>;
  /** The volume the base image `file` has (or would have) on any host: named by its content. */
  nameOf(file: string): Promise<string>;
  /** Deletes it (and its completion marker); refuses while a disk volume still has it as backing store. */
  remove(uri: string, volume: string): Promise<void>;
}

export interface StateStore {
  load(): Promise<FleetState>;
  save(state: FleetState): Promise<void>;
}

export interface ReadinessTarget {
  agent: string;
  /** The agent's libvirt URI: a remote host's forwards listen on its loopback, reached through its SSH. */
  uri: string;
  host: string;
  port: number;
  user: string;
  identityFile: string;
  /** Pinned host key ("ssh-ed25519 AAAA..."); undefined on first contact. */
  pinnedHostKey?: string;
  /** Overall budget from start to a working login. */
  timeoutSeconds: number;
}

export type ReadinessStage = 'listening' | 'banner' | 'login';

/** Waits for an agent's SSH: port listening, banner, then a login with the pinned host key. */
export interface Readiness {
  wait(target: ReadinessTarget, onStage: (stage: ReadinessStage) => void): Promise<{ hostKey: string }>;
}

/** Host-side checks that need the host (sockets, files), not the hypervisor. */
export interface HostProbe {
  /** True when something accepts connections on 127.0.0.1:port of the libvirt host of `uri`. */
  listensOnLoopback(port: number, uri: string): Promise<boolean>;
  /** Last lines of an agent's serial console log, for failure messages. */
  consoleTail(path: string, lines: number): Promise<string[]>;
}

/**
 * The hand-over point after "ssh ready": provisioning (nixos-rebuild, host-key capture, rekey)
 * plugs in here. `up` without a provisioner stops at phase "ssh-ready".
 */
export interface Provisioner {
  provision(
    agent: string,
    ctx: { hostKey: string; progress: (message: string) => void; store: ProvisionStore },
  ): Promise<void>;
}

/** What the engine reports while it works; the CLI renders it (bars on a TTY, lines otherwise). */
export type ProgressEvent =
  | { type: 'plan'; plan: Plan }
  | { type: 'step'; agent: string; step: StepKind; status: 'start' | 'done' }
  | { type: 'bytes'; agent: string; done: number; total: number }
  | { type: 'stage'; agent: string; stage: ReadinessStage; limitSeconds: number }
  | { type: 'message'; agent: string; message: string }
  | { type: 'agent'; agent: string; status: 'done' | 'failed'; error?: string };

export type ProgressSink = (event: ProgressEvent) => void;
