import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { SshTarget } from '@agentfleet/core';
import { connectShell } from './connect.js';
import { HostKeyMismatchError, SshConnectError } from './errors.js';
import { hedged } from './hedged.js';
import type { SshShell } from './shell.js';

/** Readiness is proven in order: something accepts TCP, it speaks SSH, we can log in. */
export type ReadinessStage = 'listening' | 'banner' | 'login';
const STAGES: readonly ReadinessStage[] = ['listening', 'banner', 'login'];

export interface StageOptions {
  /** Give up on the stage after this long. */
  timeoutMs: number;
  /** Limit for one attempt (connect, banner read, login). */
  attemptTimeoutMs: number;
  /** First pause between attempts; grows by `backoffFactor` up to `maxDelayMs`. */
  initialDelayMs: number;
  maxDelayMs: number;
  backoffFactor: number;
}

export interface ReadinessProgress {
  stage: ReadinessStage;
  status: 'retrying' | 'passed';
  attempt: number;
  /** Time spent in this stage so far. */
  elapsedMs: number;
  /** Why the last attempt failed (status 'retrying'). */
  error?: string;
}

/** Opens a connection to host:port (TCP from here by default; through a jump host for remote agents). */
export type Dialer = (host: string, port: number, timeoutMs: number) => Promise<Duplex>;

export interface WaitForSshOptions {
  dial?: Dialer;
  stages?: Partial<Record<ReadinessStage, Partial<StageOptions>>>;
  onProgress?: (p: ReadinessProgress) => void;
  signal?: AbortSignal;
}

export interface WaitForSshResult {
  /** The logged-in session from the login stage; the caller closes it. */
  shell: SshShell;
  /** The server's identification line, e.g. "SSH-2.0-dropbear_2022.83". */
  banner: string;
  /** Milliseconds each stage took. */
  timings: Record<ReadinessStage, number>;
}

const DEFAULTS: Record<ReadinessStage, StageOptions> = {
  listening: {
    timeoutMs: 60_000,
    attemptTimeoutMs: 3_000,
    initialDelayMs: 100,
    maxDelayMs: 1_000,
    backoffFactor: 1.5,
  },
  // A booting guest behind a user-mode forwarder (slirp, passt): the forwarded port accepts at once, sshd answers
  // much later. An attempt may hang until its timeout (the forwarder holds a connection the guest's network cannot
  // take yet), so attempts overlap: a new one starts every `BANNER_HEDGE_MS` while older ones still wait.
  banner: {
    timeoutMs: 180_000,
    attemptTimeoutMs: 5_000,
    initialDelayMs: 50,
    // Attempts are cheap (the forwarder refuses at once while the guest boots); a long pause would only add latency.
    maxDelayMs: 250,
    backoffFactor: 1.5,
  },
  login: {
    timeoutMs: 60_000,
    attemptTimeoutMs: 20_000,
    initialDelayMs: 500,
    maxDelayMs: 3_000,
    backoffFactor: 1.5,
  },
};

export class SshReadinessError extends Error {
  constructor(
    readonly who: string,
    readonly stage: ReadinessStage,
    readonly attempts: number,
    readonly elapsedMs: number,
    readonly lastError: string,
  ) {
    super(
      `SSH to ${who} not ready: stage '${stage}' gave up after ${Math.round(elapsedMs / 1000)} s ` +
        `(${attempts} attempt${attempts === 1 ? '' : 's'}); last error: ${lastError}`,
    );
    this.name = 'SshReadinessError';
  }
}

function tcpConnect(host: string, port: number, timeoutMs: number): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, host);
    const onTimeout = () => {
      socket.destroy();
      reject(new Error(`TCP connect to ${host}:${port} timed out`));
    };
    socket.setTimeout(timeoutMs, onTimeout);
    socket.once('connect', () => {
      // Passing the listener removes it: left in place, it would destroy the socket on the caller's next timeout.
      socket.setTimeout(0, onTimeout);
      resolve(socket);
    });
    socket.once('error', (err) => reject(err));
  });
}

/**
 * The probe's own identification line, sent as soon as it connects (RFC 4253 4.2: both sides send one, neither
 * waits for the other). It matters behind passt 2023-03-09 (Debian 12): passt does not ACK the guest's SYN-ACK of a
 * forwarded connection until the host side sends data, so a client that only listens never gets the guest's banner.
 */
const PROBE_IDENT = 'SSH-2.0-agentfleet_probe\r\n';

/**
 * passt 2023-03-09 busy-loops on a forwarded connection that its client closed before the guest answered (it ignores
 * the level-triggered EPOLLRDHUP until its 10 s handshake timeout), taking the CPU the booting guest needs. So a probe
 * that heard nothing leaves its connection open until passt has given up on it, and only then closes it.
 */
const FORWARDER_HANDSHAKE_MS = 11_000;

function closeSilent(socket: Duplex, connectedAt: number): void {
  const wait = connectedAt + FORWARDER_HANDSHAKE_MS - Date.now();
  // A channel through a jump host is no local socket to passt: it can go at once.
  if (!(socket instanceof net.Socket) || wait <= 0 || socket.destroyed) return void socket.destroy();
  socket.removeAllListeners();
  socket.on('error', () => undefined);
  // Once the guest answers (a forwarder that held the connection reached it late), the handshake is
  // over for the forwarder too: close at once, or the guest's sshd counts a lingering unauthenticated
  // client (dropbear refuses logins beyond 5 per address).
  socket.on('data', () => socket.destroy());
  socket.resume();
  socket.unref();
  const timer = setTimeout(() => socket.destroy(), wait);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}

/**
 * Reads the server's "SSH-" identification line (RFC 4253 lets other lines come first). An abort (another probe got
 * the banner) ends the wait at once; the socket is then closed as any probe's that heard nothing.
 */
function readBanner(
  dial: Dialer,
  host: string,
  port: number,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<string> {
  return dial(host, port, timeoutMs).then(
    (socket) =>
      new Promise((resolve, reject) => {
        const connectedAt = Date.now();
        let text = '';
        let finished = false;
        const done = (err: Error | undefined, banner?: string) => {
          if (finished) return;
          finished = true;
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          if (text === '') closeSilent(socket, connectedAt);
          else socket.destroy();
          if (err) reject(err);
          else resolve(banner as string);
        };
        const onAbort = () => done(signal.reason as Error);
        const timer = setTimeout(() => done(new Error('connected, but no SSH banner arrived')), timeoutMs);
        if (signal.aborted) return onAbort();
        signal.addEventListener('abort', onAbort, { once: true });
        socket.write(PROBE_IDENT);
        socket.on('error', (err) => done(err));
        socket.on('close', () => done(new Error('connection closed before an SSH banner arrived')));
        socket.on('data', (d: Buffer) => {
          text += d.toString('latin1');
          const line = text.split(/\r?\n/).find((l, i, all) => l.startsWith('SSH-') && i < all.length - 1);
          if (line) done(undefined, line);
          else if (text.length > 8192)
            done(new Error(`not an SSH server; it said: ${JSON.stringify(text.slice(0, 80))}`));
        });
      }),
  );
}

/** How often a new banner probe starts while earlier ones still wait: the most a ready guest goes unnoticed. */
const BANNER_HEDGE_MS = 500;
/**
 * How soon a refused probe is replaced while earlier ones still wait: once the guest's network refuses at once, its
 * sshd is moments away. A refused probe is one connection the forwarder and the guest's kernel turn away.
 */
const BANNER_RETRY_MS = 100;

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Retries `attempt` with backoff until it succeeds or the stage's time is up. */
async function runStage<T>(
  who: string,
  stage: ReadinessStage,
  o: StageOptions,
  opts: WaitForSshOptions,
  attempt: (timeoutMs: number) => Promise<T>,
): Promise<{ value: T; elapsedMs: number }> {
  const start = Date.now();
  let delay = o.initialDelayMs;
  for (let n = 1; ; n++) {
    const remaining = o.timeoutMs - (Date.now() - start);
    try {
      const value = await attempt(Math.max(1, Math.min(o.attemptTimeoutMs, remaining)));
      const elapsedMs = Date.now() - start;
      opts.onProgress?.({ stage, status: 'passed', attempt: n, elapsedMs });
      return { value, elapsedMs };
    } catch (err) {
      if (err instanceof HostKeyMismatchError) throw err; // never transient
      const message = (err as Error).message;
      const elapsedMs = Date.now() - start;
      // A server that answered and refused our key will refuse it again: waiting longer only hides the cause.
      const refused = err instanceof SshConnectError && err.authFailed;
      if (refused || elapsedMs + delay >= o.timeoutMs)
        throw new SshReadinessError(who, stage, n, elapsedMs, message);
      opts.onProgress?.({ stage, status: 'retrying', attempt: n, elapsedMs, error: message });
      await sleep(delay, opts.signal);
      delay = Math.min(o.maxDelayMs, delay * o.backoffFactor);
    }
  }
}

/**
 * Waits until `target` accepts an SSH login, stage by stage, each with its own timeout and backoff, and returns the
 * logged-in session. Errors name the stage that gave up; a host-key mismatch or a refused key fails at once.
 */
export async function waitForSsh(target: SshTarget, opts: WaitForSshOptions = {}): Promise<WaitForSshResult> {
  const o = Object.fromEntries(STAGES.map((s) => [s, { ...DEFAULTS[s], ...opts.stages?.[s] }])) as Record<
    ReadinessStage,
    StageOptions
  >;
  const { host, port, who } = target;
  const dial = opts.dial ?? tcpConnect;
  const listening = await runStage(who, 'listening', o.listening, opts, async (t) =>
    // Closed at once: a connection that reached the guest's sshd and lingered would count against its limit of
    // unauthenticated connections per address (dropbear: 5), refusing the logins that follow.
    (await dial(host, port, t)).destroy(),
  );
  const banner = await runStage(who, 'banner', o.banner, opts, (t) =>
    hedged((left, signal) => readBanner(dial, host, port, left, signal), t, BANNER_HEDGE_MS, BANNER_RETRY_MS),
  );
  const login = await runStage(who, 'login', o.login, opts, async (t) =>
    connectShell(
      target,
      opts.dial ? { timeoutMs: t, sock: await opts.dial(host, port, t) } : { timeoutMs: t },
    ),
  );
  return {
    shell: login.value,
    banner: banner.value,
    timings: { listening: listening.elapsedMs, banner: banner.elapsedMs, login: login.elapsedMs },
  };
}
