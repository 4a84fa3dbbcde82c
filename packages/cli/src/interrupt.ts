import type { ProgressEvent } from '@agentfleet/core';

/** Shows the cursor and turns auto-wrap back on: progress bars hide the one and disable the other. */
export const TERMINAL_RESTORE = '\x1b[?25h\x1b[?7h';

/** How long a stop may take to let go of what it holds before the process exits anyway. */
const RELEASE_LIMIT_MS = 3000;

let stopping = false;

/** A stop is under way: nothing but its report should reach the user any more. */
export function interrupted(): boolean {
  return stopping;
}

const EXIT_BY_SIGNAL: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 };

export interface InterruptOptions {
  /** The command line that picks up where this run stopped (every mutating command resumes). */
  resume: string;
  /** Lets go of what the run holds (the state dir's lock, libvirt connections). */
  release(): Promise<void>;
  /** Writes the final word (text on stderr, or the --json envelope on stdout). */
  report(message: string, remedy: string): void;
}

export interface InterruptGuard {
  /** Feeds the "what was done" summary from the run's progress events. */
  record(e: ProgressEvent): void;
  /** Runs first on a stop, e.g. stopping the progress bars so they draw nothing more. */
  atStop(fn: () => void): void;
  /** The run ended by itself: signals are the default's again. */
  dispose(): void;
}

/**
 * Ctrl-C or SIGTERM during a run: restore the terminal, say what finished and how to resume,
 * release the lock, exit 130/143. The engine's steps are resumable (a killed `up` is finished by
 * the next), so stopping between two writes loses nothing. A second Ctrl-C exits at once.
 */
export function guardInterrupts(opts: InterruptOptions): InterruptGuard {
  const finished = new Map<string, string[]>();
  const stoppers: (() => void)[] = [];

  const onSignal = (signal: NodeJS.Signals) => {
    const code = EXIT_BY_SIGNAL[signal] ?? 1;
    if (process.stderr.isTTY) process.stderr.write(TERMINAL_RESTORE);
    if (stopping) process.exit(code);
    stopping = true;
    for (const stop of stoppers) {
      try {
        stop();
      } catch {
        // A renderer that cannot stop must not keep the lock held.
      }
    }
    if (process.stderr.isTTY) process.stderr.write(`\n${TERMINAL_RESTORE}`);
    const done = [...finished].map(([agent, steps]) => `${agent} (${steps.join(', ')})`);
    const message = `interrupted by ${signal}; ${done.length > 0 ? `finished: ${done.join(', ')}` : 'no step had finished'}`;
    opts.report(message, `run \`${opts.resume}\` to resume`);
    const limit = new Promise((resolve) => setTimeout(resolve, RELEASE_LIMIT_MS).unref());
    void Promise.race([opts.release().catch(() => {}), limit]).then(() => process.exit(code));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    record(e) {
      if (e.type === 'step' && e.status === 'done') {
        finished.set(e.agent, [...(finished.get(e.agent) ?? []), e.step]);
      }
    },
    atStop(fn) {
      stoppers.push(fn);
    },
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
