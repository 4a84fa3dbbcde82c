import { formatBytes, type ProgressEvent, type ProgressSink, sanitizeTerminalText } from '@agentfleet/core';
import type { ProvisionReporter } from '@agentfleet/engine';
import cliProgress from 'cli-progress';

/** Guest output lines kept under an agent's bar on a terminal (a rebuild prints hundreds). */
const TAIL_LINES = 3;

/** Live bars on stderr: only for a person at a terminal (with --json a script reads stdout). */
export function drawsOnTerminal(ctx: { json: boolean }): boolean {
  return !ctx.json && process.stderr.isTTY === true;
}

export interface ProgressOptions {
  interactive: boolean;
  clock?: () => Date;
  /** Terminal width for the tail lines (a wrapped line would break the bars' redraw). */
  columns?: () => number;
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

/** `HH:MM:SS ` of now: a log read later needs to know when each line happened. */
function stamp(now: Date): string {
  return `${now.toTimeString().slice(0, 8)} `;
}

/**
 * What a run shows per agent, whatever drives it: `up`'s progress events, or the provisioning
 * reporter of `provision`/`rebuild`. A terminal draws it in place; a log gets stamped lines.
 */
interface AgentView {
  /** An agent with `steps` steps of work starts (on a terminal: its bar). */
  track(agent: string, steps: number): void;
  /** What the agent is doing now (a step, a wait, a copy); `advance` adds finished steps. */
  status(agent: string, text: string, advance?: number): void;
  /** A line of the guest's output (rebuild, provisioning). */
  output(agent: string, line: string): void;
  /** A copy's bytes: on a terminal the bar fills the step; a log gets a line per quarter. */
  bytes(agent: string, text: string, fraction: number): void;
  /** The agent is done (no line: the result says "ok") or failed. */
  finish(agent: string, error?: string): void;
  stop(): void;
}

function lineView(clock: () => Date): AgentView {
  const lastQuarter = new Map<string, number>();
  const write = (agent: string, text: string) =>
    process.stderr.write(`${stamp(clock())}${agent}: ${sanitizeTerminalText(text)}\n`);
  return {
    track() {},
    status: (agent, text) => write(agent, text),
    output: (agent, line) => write(agent, `| ${line}`),
    bytes(agent, text, fraction) {
      // A line per quarter is enough in a log; a copy reports thousands of chunks.
      const quarter = Math.floor(4 * fraction);
      if (quarter === lastQuarter.get(agent)) return;
      lastQuarter.set(agent, quarter);
      write(agent, `${text} (${Math.round(100 * fraction)}%)`);
    },
    // The result on stdout says "ok" per agent; saying it here too printed it twice.
    finish: (agent, error) => {
      if (error !== undefined) write(agent, `FAILED: ${error.split('\n')[0]}`);
    },
    stop() {},
  };
}

interface AgentBlock {
  agent: string;
  bar: cliProgress.SingleBar;
  total: number;
  done: number;
  /** The bar's value: finished steps plus the running copy's fraction. */
  value: number;
  status: string;
  /** TAIL_LINES lines under the bar with the last guest output, reserved at its first line. */
  tail: cliProgress.SingleBar[];
  lines: string[];
}

/**
 * One bar per agent, and under it a fixed block of TAIL_LINES lines with the last of its guest
 * output, redrawn in place: a rebuild prints hundreds of lines, which scrolling through the bars
 * would tear apart.
 */
function barView(columns: () => number): AgentView {
  const multi = new cliProgress.MultiBar(
    {
      format: '{agent} [{bar}] {percentage}% {status}',
      hideCursor: true,
      clearOnComplete: false,
      stream: process.stderr,
    },
    cliProgress.Presets.shades_classic,
  );
  const blocks: AgentBlock[] = [];
  const blockOf = (agent: string) => blocks.find((b) => b.agent === agent);
  // A terminal line that wraps breaks the redraw: every line is cut to the width.
  const fit = (text: string, indent: number) =>
    sanitizeTerminalText(text).slice(0, Math.max(20, columns() - indent - 1));
  const barOf = (b: Omit<AgentBlock, 'bar'>) =>
    multi.create(b.total, b.value, { agent: b.agent.padEnd(12), status: b.status });
  const tailLine = (line: string) => multi.create(1, 0, { line }, { format: '    {line}' });
  /**
   * cli-progress draws its bars in creation order: a block that gains or loses its tail lines is
   * drawn again with every block after it, so each agent's output stays under its own bar.
   */
  const relayout = (from: AgentBlock, tail: number) => {
    const after = blocks.slice(blocks.indexOf(from));
    for (const b of after) for (const bar of [b.bar, ...b.tail]) multi.remove(bar);
    from.lines = tail === 0 ? [] : from.lines;
    for (const b of after) {
      b.bar = barOf(b);
      const lines = b === from ? tail : b.tail.length;
      b.tail = Array.from({ length: lines }, (_, i) => tailLine(b.lines[i] ?? ''));
    }
  };
  const show = (b: AgentBlock) => b.bar.update(b.value, { status: b.status });
  return {
    track(agent, steps) {
      if (blockOf(agent) || steps === 0) return;
      const shown = { agent, total: steps, done: 0, value: 0, status: '', tail: [], lines: [] };
      blocks.push({ ...shown, bar: barOf(shown) });
    },
    status(agent, text, advance = 0) {
      const b = blockOf(agent);
      if (!b) return;
      b.done = Math.min(b.total, b.done + advance);
      b.value = b.done;
      b.status = fit(text, 34);
      show(b);
    },
    output(agent, line) {
      const b = blockOf(agent);
      if (!b) return;
      b.lines = [...b.lines, fit(line, 4)].slice(-TAIL_LINES);
      if (b.tail.length === 0) relayout(b, TAIL_LINES);
      for (const [i, l] of b.lines.entries()) b.tail[i]?.update(0, { line: l });
    },
    bytes(agent, text, fraction) {
      const b = blockOf(agent);
      if (!b) return;
      b.value = b.done + fraction;
      b.status = fit(text, 34);
      show(b);
      // Drawn now, not at the next frame: a copy reports every 250 ms, and a fast one only its end,
      // which the next step's status would replace before a frame showed it.
      multi.update();
    },
    finish(agent, error) {
      const b = blockOf(agent);
      if (!b) return;
      if (error === undefined) {
        b.value = b.total;
        // Not "ok": the result printed under the bars says that, and the issue saw it twice.
        b.status = 'done';
        // A finished agent's output is over; a failed one keeps it as context for the error.
        if (b.tail.length > 0) relayout(b, 0);
      } else b.status = fit(`FAILED: ${error.split('\n')[0]}`, 34);
      show(b);
    },
    stop: () => multi.stop(),
  };
}

function viewOf(opts: ProgressOptions): AgentView {
  return opts.interactive
    ? barView(opts.columns ?? (() => process.stderr.columns || 80))
    : lineView(opts.clock ?? (() => new Date()));
}

/**
 * Renders engine progress on stderr: one live bar per agent on a terminal, plain stamped lines
 * otherwise (CI logs, pipes), so stdout keeps only the result.
 */
export function progressSink(opts: ProgressOptions): { sink: ProgressSink; stop(): void } {
  const view = viewOf(opts);
  const timings = new Timings(() => (opts.clock ?? (() => new Date()))().getTime());
  const stages = new Map<string, string>();
  // A wait's elapsed time moves while no event comes: redraw waiting agents every second.
  const ticker = opts.interactive
    ? setInterval(() => {
        for (const agent of timings.waiting()) {
          const stage = stages.get(agent);
          if (stage) view.status(agent, timings.waitText(agent, stage));
        }
      }, 1000)
    : undefined;
  ticker?.unref();
  const sink: ProgressSink = (e) => {
    switch (e.type) {
      case 'plan':
        for (const a of e.plan.actions) view.track(a.agent, a.steps.length);
        return;
      case 'bytes':
        view.bytes(e.agent, timings.copy(e.agent, e.done, e.total), e.done / Math.max(1, e.total));
        return;
      case 'stage':
        timings.wait(e);
        stages.set(e.agent, e.stage);
        view.status(e.agent, timings.waitText(e.agent, e.stage));
        return;
      case 'message':
        // Provisioning says which step it is in, then streams the guest's output as `| line`.
        if (e.message.startsWith('| ')) view.output(e.agent, e.message.slice(2));
        else view.status(e.agent, e.message);
        return;
      case 'step':
        timings.step(e);
        if (e.status === 'done') stages.delete(e.agent);
        view.status(
          e.agent,
          e.status === 'start' ? `${e.step}...` : `${e.step} done`,
          e.status === 'done' ? 1 : 0,
        );
        return;
      case 'agent':
        timings.end(e.agent);
        stages.delete(e.agent);
        view.finish(e.agent, e.status === 'failed' ? (e.error ?? 'failed') : undefined);
        return;
    }
  };
  return {
    sink,
    stop: () => {
      if (ticker) clearInterval(ticker);
      view.stop();
    },
  };
}

/**
 * `provision` and `rebuild`: the provisioning reporter drawn like `up` (a bar per agent with its
 * guest output as a tail under it on a terminal; stamped lines otherwise). `finish` reports each
 * agent's outcome, which the engine returns rather than reports.
 */
export function provisionProgress(opts: ProgressOptions & { agents: readonly string[]; steps: number }): {
  reporter: ProvisionReporter;
  /** What an agent does that the reporter has no step for (a rebuild has one). */
  status(agent: string, text: string): void;
  finish(agent: string, error?: string): void;
  stop(): void;
} {
  const view = viewOf(opts);
  for (const agent of opts.agents) view.track(agent, opts.steps);
  return {
    reporter: {
      step: (agent, step, event) =>
        view.status(agent, event === 'start' ? `${step}...` : `${step} done`, event === 'done' ? 1 : 0),
      line: (agent, line) => view.output(agent, line),
    },
    status: (agent, text) => view.status(agent, text),
    finish: (agent, error) => view.finish(agent, error),
    stop: () => view.stop(),
  };
}
