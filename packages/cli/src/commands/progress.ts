import { formatBytes, type ProgressEvent, type ProgressSink, sanitizeTerminalText } from '@agentfleet/core';
import cliProgress from 'cli-progress';

/** Guest output lines kept under an agent's bar on a terminal (a rebuild prints hundreds). */
const TAIL_LINES = 3;

export interface ProgressOptions {
  interactive: boolean;
  clock?: () => Date;
  /** Terminal width for the tail lines (a wrapped line would break the bars' redraw). */
  columns?: () => number;
}

/**
 * Renders engine progress on stderr: one live bar per agent on a terminal, plain lines
 * otherwise (CI logs, pipes), so stdout keeps only the result.
 */
export function progressSink(opts: ProgressOptions): { sink: ProgressSink; stop(): void } {
  const clock = opts.clock ?? (() => new Date());
  return opts.interactive
    ? barSink(clock, opts.columns ?? (() => process.stderr.columns || 80))
    : lineSink(clock);
}

/** What an agent is in the middle of, measured against the clock: a copy's rate, a wait's age. */
class Timings {
  private readonly copyStart = new Map<string, number>();
  private readonly waitStart = new Map<string, { at: number; limitSeconds: number }>();

  constructor(private readonly now: () => number) {}

  /** The disk step started: the copy's rate counts from here (a fast copy reports only its end). */
  step(e: Extract<ProgressEvent, { type: 'step' }>): void {
    if (e.step === 'create-disk' && e.status === 'start') this.copyStart.set(e.agent, this.now());
    if (e.status === 'done') this.end(e.agent);
  }

  /** `disk 5.0 MiB of 20.0 MiB, 12.3 MiB/s, ETA 1s` (rate and ETA once there is a rate). */
  copy(agent: string, done: number, total: number): string {
    const start = this.copyStart.get(agent) ?? this.now();
    if (!this.copyStart.has(agent)) this.copyStart.set(agent, start);
    const seconds = (this.now() - start) / 1000;
    const head = `disk ${formatBytes(done)} of ${formatBytes(total)}`;
    if (seconds <= 0 || done <= 0) return head;
    const rate = done / seconds;
    return `${head}, ${formatBytes(rate)}/s, ETA ${Math.ceil((total - done) / rate)}s`;
  }

  /** `ssh: waiting for banner (12s of 300s)`; the wait's clock starts at its first stage. */
  wait(e: Extract<ProgressEvent, { type: 'stage' }>): void {
    if (!this.waitStart.has(e.agent))
      this.waitStart.set(e.agent, { at: this.now(), limitSeconds: e.limitSeconds });
  }

  waitText(agent: string, stage: string): string {
    const w = this.waitStart.get(agent);
    if (!w) return `ssh: waiting for ${stage}`;
    return `ssh: waiting for ${stage} (${Math.round((this.now() - w.at) / 1000)}s of ${w.limitSeconds}s)`;
  }

  waiting(): string[] {
    return [...this.waitStart.keys()];
  }

  /** A step or the agent finished: what it was timing is over. */
  end(agent: string): void {
    this.copyStart.delete(agent);
    this.waitStart.delete(agent);
  }
}

/** A progress line; messages and errors can quote guest output, so the text is rendered inert. */
function describe(e: ProgressEvent): string | undefined {
  const text = describeRaw(e);
  return text === undefined ? undefined : sanitizeTerminalText(text);
}

function describeRaw(e: ProgressEvent): string | undefined {
  switch (e.type) {
    case 'step':
      return e.status === 'start' ? `${e.step}...` : `${e.step} done`;
    case 'message':
      return e.message;
    case 'agent':
      return e.status === 'done' ? 'ok' : `FAILED: ${e.error?.split('\n')[0]}`;
    default:
      return undefined;
  }
}

/** `HH:MM:SS ` of now: a log read later needs to know when each line happened. */
function stamp(now: Date): string {
  return `${now.toTimeString().slice(0, 8)} `;
}

function lineSink(clock: () => Date): { sink: ProgressSink; stop(): void } {
  const lastQuarter = new Map<string, number>();
  const timings = new Timings(() => clock().getTime());
  const write = (agent: string, text: string) => process.stderr.write(`${stamp(clock())}${agent}: ${text}\n`);
  const sink: ProgressSink = (e) => {
    // The result on stdout says "ok" per agent; saying it here too printed it twice.
    if (e.type === 'plan' || (e.type === 'agent' && e.status === 'done')) return;
    if (e.type === 'bytes') {
      // A line per quarter is enough in a log; a copy reports thousands of chunks.
      const text = timings.copy(e.agent, e.done, e.total);
      const quarter = Math.floor((4 * e.done) / Math.max(1, e.total));
      if (quarter === lastQuarter.get(e.agent)) return;
      lastQuarter.set(e.agent, quarter);
      write(e.agent, `${text} (${Math.round((100 * e.done) / Math.max(1, e.total))}%)`);
      return;
    }
    if (e.type === 'stage') {
      timings.wait(e);
      write(e.agent, timings.waitText(e.agent, e.stage));
      return;
    }
    if (e.type === 'step') timings.step(e);
    if (e.type === 'agent') timings.end(e.agent);
    const text = describe(e);
    if (text) write(e.agent, text);
  };
  return { sink, stop() {} };
}

interface AgentBar {
  bar: cliProgress.SingleBar;
  done: number;
  /** The status shown on the bar (the step, the wait), which guest output does not overwrite. */
  status: string;
  stage?: string;
  /** Lines under the bar holding the last guest output, created with the first line. */
  tail: cliProgress.SingleBar[];
  lines: string[];
}

function barSink(clock: () => Date, columns: () => number): { sink: ProgressSink; stop(): void } {
  const multi = new cliProgress.MultiBar(
    {
      format: '{agent} [{bar}] {percentage}% {status}',
      hideCursor: true,
      clearOnComplete: false,
      stream: process.stderr,
    },
    cliProgress.Presets.shades_classic,
  );
  const timings = new Timings(() => clock().getTime());
  // One bar per agent with work; its length is the agent's step count, a disk copy fills its step.
  const bars = new Map<string, AgentBar>();
  const show = (b: AgentBar, status: string, value = b.done) => {
    b.status = status;
    b.bar.update(value, { status });
  };
  // A wait's elapsed time moves while no event comes: redraw waiting agents every second.
  const ticker = setInterval(() => {
    for (const agent of timings.waiting()) {
      const b = bars.get(agent);
      if (b?.stage) show(b, timings.waitText(agent, b.stage));
    }
  }, 1000);
  ticker.unref();
  const clearTail = (b: AgentBar) => {
    for (const t of b.tail) multi.remove(t);
    b.tail = [];
    b.lines = [];
  };
  const sink: ProgressSink = (e) => {
    if (e.type === 'plan') {
      for (const a of e.plan.actions) {
        if (a.steps.length === 0) continue;
        bars.set(a.agent, {
          bar: multi.create(a.steps.length, 0, { agent: a.agent.padEnd(12), status: '' }),
          done: 0,
          status: '',
          tail: [],
          lines: [],
        });
      }
      return;
    }
    const b = bars.get(e.agent);
    if (!b) return;
    switch (e.type) {
      case 'bytes':
        show(b, timings.copy(e.agent, e.done, e.total), b.done + e.done / Math.max(1, e.total));
        // Drawn now, not at the next frame: a copy reports every 250 ms, and a fast one only its end,
        // which the next step's status would replace before a frame showed it.
        multi.update();
        return;
      case 'stage':
        timings.wait(e);
        b.stage = e.stage;
        show(b, timings.waitText(e.agent, e.stage));
        return;
      case 'message': {
        // Guest output scrolls in the lines under the bar; the bar keeps saying which step runs.
        const width = Math.max(20, columns() - 4);
        b.lines = [...b.lines, (describe(e) ?? '').slice(0, width)].slice(-TAIL_LINES);
        while (b.tail.length < b.lines.length)
          b.tail.push(multi.create(1, 0, { line: '' }, { format: '    {line}' }));
        for (const [i, line] of b.lines.entries()) b.tail[i]?.update(0, { line });
        return;
      }
      case 'step':
        timings.step(e);
        if (e.status === 'done') {
          b.done += 1;
          delete b.stage;
        }
        break;
      case 'agent':
        timings.end(e.agent);
        delete b.stage;
        // A finished agent's output is over; a failed one keeps it as context for the error.
        if (e.status === 'done') clearTail(b);
        break;
    }
    const text = describe(e);
    if (text) show(b, text);
  };
  return {
    sink,
    stop: () => {
      clearInterval(ticker);
      multi.stop();
    },
  };
}
