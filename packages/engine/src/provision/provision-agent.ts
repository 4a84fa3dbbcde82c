import {
  type AgentConnector,
  type AgentShell,
  checkHostKeyCapture,
  completeStep,
  failStep,
  type ProvisioningStep,
  type ProvisionProgress,
  type ProvisionStore,
  pendingSteps,
  publicKeyLine,
  RemoteConnectionLostError,
  rewindTo,
  type SecretsRekeyer,
} from '@agentfleet/core';
import { AgentLog } from './agent-log.js';
import { type HostBuildDeps, hostSwitchOf } from './host-switch.js';
import { OutputTail } from './output-tail.js';
import { PhaseFailure } from './phase-failure.js';
import { runRebuild } from './rebuild.js';
import { shq } from './shell-quote.js';

/** Where the seeds' NixOS keeps the host key agenix decrypts with. */
export const HOST_KEY_PUB = '/var/ssh/ssh_host_ed25519_key.pub';
/** Deadline of a quick command (reading a file, checking paths): generous for a loaded TCG guest. */
const SHORT_COMMAND_MS = 120_000;

/** Where agenix puts decrypted secrets. */
export const AGENIX_DIR = '/run/agenix';

export interface ProvisionReporter {
  step(agent: string, step: ProvisioningStep, event: 'start' | 'done'): void;
  /** One line of output from inside the agent (rebuild output). */
  line(agent: string, line: string): void;
}

export interface ProvisionDeps {
  connector: AgentConnector;
  secrets: SecretsRekeyer;
  store: ProvisionStore;
  reporter: ProvisionReporter;
  /** Per-agent logs go under it; never uploaded with the flake, even inside the fleet repo. */
  stateDir: string;
  fleetDir: string;
  /** fleet.yaml's flake reference. */
  flake: string;
  /** The agent's SSH login user; anyone but root goes through sudo. */
  sshUserOf(agent: string): string;
  /** `build: host`: systems are built on this host and copied in; absent, nixos-rebuild runs inside. */
  host?: HostBuildDeps;
  now?: () => string;
}

export interface ProvisionRequest {
  agent: string;
  /** Names of the secrets the agent gets: each must be at /run/agenix/<name> in the end. */
  secrets: readonly string[];
  /** Redo this step and everything after it (`--from <step>`). */
  from?: ProvisioningStep;
  /**
   * The user confirmed (`--rekey --yes`) that the agent's host key may have changed: accept the
   * key it presents now, re-capture it, rekey and rebuild.
   */
  rekey?: boolean;
}

export type ProvisionResult =
  | { agent: string; ok: true; ran: ProvisioningStep[] }
  | {
      agent: string;
      ok: false;
      ran: ProvisioningStep[];
      step: ProvisioningStep;
      message: string;
      /** Last lines of the failed step's output. */
      tail: string[];
      logPath: string;
    };

/**
 * Provisions one agent from wherever it stopped: each step is recorded in the store as soon as
 * it finishes, so a run killed at any point repeats at most the step it was in.
 */
export async function provisionAgent(deps: ProvisionDeps, req: ProvisionRequest): Promise<ProvisionResult> {
  const now = deps.now ?? (() => new Date().toISOString());
  const { agent } = req;
  let progress = await deps.store.read(agent);
  const from = req.rekey ? 'hostkey' : req.from;
  if (from !== undefined) progress = await deps.store.update(agent, (p) => rewindTo(p, from, now()));
  const steps = pendingSteps(progress);
  const ran: ProvisioningStep[] = [];
  const first = steps[0];
  if (first === undefined) return { agent, ok: true, ran };

  const log = await AgentLog.open(deps.stateDir, agent, (line) => deps.reporter.line(agent, line));
  let current: ProvisioningStep = first;
  let shell: AgentShell | undefined;
  try {
    const connect = async (waitReady: boolean) => {
      const pinned = await deps.store.pinnedHostKey(agent);
      return deps.connector.connect(agent, {
        acceptNewHostKey: req.rekey === true,
        ...(pinned !== undefined && { pinnedHostKey: pinned }),
        ...(waitReady && { waitReady }),
      });
    };
    // The agent answered SSH a moment ago (bring-up's readiness, or a running agent), yet a TCG guest starved by a
    // loaded host can drop or time out this connection before the handshake (seen with 4 guests at load 20-24):
    // one more attempt, no longer (an agent that is gone still fails in seconds, not after a boot budget).
    shell = await connect(false).catch((err: Error) => {
      log.section(`${err.message}; connecting to ${agent} once more`, now());
      return connect(false);
    });
    for (const step of steps) {
      current = step;
      deps.reporter.step(agent, step, 'start');
      let hostKey: string | undefined;
      try {
        hostKey = await runStep({ deps, req, shell, log, now }, step, progress);
      } catch (err) {
        if (!(err instanceof RemoteConnectionLostError)) throw err;
        // The guest went away mid-step (rebooted, sshd restarted): every step is safe to repeat, so wait for
        // it to come back and run the step once more; a second loss fails the agent.
        log.section(
          `${err.message}; waiting for ${agent} to be reachable again, then retrying ${step} once`,
          now(),
        );
        await shell.close().catch(() => undefined);
        shell = undefined;
        shell = await connect(true);
        try {
          hostKey = await runStep({ deps, req, shell, log, now }, step, progress);
        } catch (again) {
          if (!(again instanceof RemoteConnectionLostError)) throw again;
          throw new Error(
            `${again.message} (again, after reconnecting once; is ${agent} rebooting in a loop?)`,
          );
        }
      }
      progress = await deps.store.update(agent, (p) => completeStep(p, step, now(), hostKey));
      ran.push(step);
      deps.reporter.step(agent, step, 'done');
    }
    return { agent, ok: true, ran };
  } catch (err) {
    const message = (err as Error).message;
    log.section(`${current} failed: ${message}`, now());
    const tail = err instanceof PhaseFailure ? err.tail : [];
    await deps.store.update(agent, (p) => failStep(p, { step: current, message, logPath: log.path }, now()));
    return { agent, ok: false, ran, step: current, message, tail, logPath: log.path };
  } finally {
    await shell?.close();
    await log.close();
  }
}

interface StepContext {
  deps: ProvisionDeps;
  req: ProvisionRequest;
  shell: AgentShell;
  log: AgentLog;
  now: () => string;
}

/** Performs one step; returns the host key when the step captured one. */
async function runStep(
  ctx: StepContext,
  step: ProvisioningStep,
  progress: ProvisionProgress,
): Promise<string | undefined> {
  const { deps, req, shell, log, now } = ctx;
  const target = {
    agent: req.agent,
    flake: deps.flake,
    fleetDir: deps.fleetDir,
    stateDir: deps.stateDir,
    sudo: deps.sshUserOf(req.agent) !== 'root',
    ...(deps.host && { host: hostSwitchOf(deps.host, req.agent) }),
  };
  switch (step) {
    case 'phase1':
      // Phase 1 exists so the guest makes its host key; one made on the host before first boot
      // is recorded and rekeyed without it, so phase 2 is the only rebuild.
      if (await deps.store.hostKeyHandedOver(req.agent)) {
        log.section('phase1 skipped: host key pre-generated, phase 2 is the only rebuild', now());
        return undefined;
      }
      await runRebuild(shell, target, log, now());
      return undefined;
    case 'phase2':
      await runRebuild(shell, target, log, now());
      return undefined;
    case 'hostkey':
      return captureHostKey(ctx, progress);
    case 'rekeyed': {
      log.section('rekey', now());
      const summary = await deps.secrets.rekeyAgent(req.agent);
      log.write(
        `rekeyed: ${summary.rekeyed.join(' ') || '-'}\nunchanged: ${summary.unchanged.join(' ') || '-'}\n`,
      );
      if (summary.failed.length > 0) {
        throw new Error(
          `rekey failed for ${summary.failed.map((f) => `${f.file} (${f.message})`).join(', ')}`,
        );
      }
      return undefined;
    }
    case 'ready':
      await verifySecrets(shell, req.secrets, log, now());
      return undefined;
  }
}

async function captureHostKey(ctx: StepContext, progress: ProvisionProgress): Promise<string> {
  const { deps, req, shell, log, now } = ctx;
  log.section(`read ${HOST_KEY_PUB}`, now());
  const fileLine = await readOutput(shell, `cat ${HOST_KEY_PUB}`);
  const capture = checkHostKeyCapture({
    agent: req.agent,
    path: HOST_KEY_PUB,
    fileLine,
    handshake: shell.hostKey,
    recorded: progress.hostKey,
    acceptChange: req.rekey === true,
  });
  if (!capture.ok) throw new Error(capture.message);
  const line = publicKeyLine(capture.key);
  log.write(`host key ${line}${capture.changed ? ` (replaces ${progress.hostKey})` : ''}\n`);
  await deps.secrets.recordHostKey(req.agent, line);
  // The connection proved this key; from now on it is the one SSH is pinned to.
  if (capture.changed || (await deps.store.pinnedHostKey(req.agent)) !== line) {
    await deps.store.pinHostKey(req.agent, line);
  }
  return line;
}

/** Every secret the agent gets must have been decrypted by agenix. */
async function verifySecrets(shell: AgentShell, secrets: readonly string[], log: AgentLog, at: string) {
  log.section(`verify ${AGENIX_DIR}/{${secrets.join(',')}}`, at);
  if (secrets.length === 0) return;
  const paths = secrets.map((s) => shq(`${AGENIX_DIR}/${s}`)).join(' ');
  const missing = (await readOutput(shell, `for f in ${paths}; do [ -e "$f" ] || echo "$f"; done`)).trim();
  if (missing !== '') throw new Error(`agenix did not decrypt: ${missing.split('\n').join(', ')}`);
}

/** A short answer from the guest (a key file, a list of paths); more than the limit is refused, not held. */
async function readOutput(shell: AgentShell, command: string): Promise<string> {
  const stdout = new OutputTail();
  const stderr = new OutputTail(4096);
  const code = await shell.exec(
    command,
    (chunk, stream) => (stream === 'stdout' ? stdout : stderr).push(chunk),
    { timeoutMs: SHORT_COMMAND_MS },
  );
  if (code !== 0) throw new Error(`\`${command}\` exited with ${code}: ${stderr.toString().trim()}`);
  if (stdout.overflowed) throw new Error(`\`${command}\` printed more than 64 KiB: not what was asked for`);
  return stdout.toString();
}
