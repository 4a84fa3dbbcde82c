import { type ProgressEvent, type ProgressSink, sanitizeTerminalText } from '@agentfleet/core';
import cliProgress from 'cli-progress';

/**
 * Renders engine progress on stderr: one live bar per agent on a terminal, plain lines
 * otherwise (CI logs, pipes), so stdout keeps only the result.
 */
export function progressSink(opts: { interactive: boolean }): { sink: ProgressSink; stop(): void } {
  return opts.interactive ? barSink() : lineSink();
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
    case 'stage':
      return `ssh: waiting for ${e.stage}`;
    case 'message':
      return e.message;
    case 'agent':
      return e.status === 'done' ? 'ok' : `FAILED: ${e.error?.split('\n')[0]}`;
    default:
      return undefined;
  }
}

function lineSink(): { sink: ProgressSink; stop(): void } {
  const lastQuarter = new Map<string, number>();
  const sink: ProgressSink = (e) => {
    if (e.type === 'plan') return;
    if (e.type === 'bytes') {
      // A line per quarter is enough in a log; a copy reports thousands of chunks.
      const quarter = Math.floor((4 * e.done) / Math.max(1, e.total));
      if (quarter === lastQuarter.get(e.agent)) return;
      lastQuarter.set(e.agent, quarter);
      process.stderr.write(`${e.agent}: disk ${Math.round((100 * e.done) / Math.max(1, e.total))}%\n`);
      return;
    }
    const text = describe(e);
    if (text) process.stderr.write(`${e.agent}: ${text}\n`);
  };
  return { sink, stop() {} };
}

function barSink(): { sink: ProgressSink; stop(): void } {
  const multi = new cliProgress.MultiBar(
    {
      format: '{agent} [{bar}] {percentage}% {status}',
      hideCursor: true,
      clearOnComplete: false,
      stream: process.stderr,
    },
    cliProgress.Presets.shades_classic,
  );
  // One bar per agent with work; its length is the agent's step count, a disk copy fills its step.
  const bars = new Map<string, { bar: cliProgress.SingleBar; done: number }>();
  const sink: ProgressSink = (e) => {
    if (e.type === 'plan') {
      for (const a of e.plan.actions) {
        if (a.steps.length === 0) continue;
        bars.set(a.agent, {
          bar: multi.create(a.steps.length, 0, { agent: a.agent.padEnd(12), status: '' }),
          done: 0,
        });
      }
      return;
    }
    const b = bars.get(e.agent);
    if (!b) return;
    if (e.type === 'bytes') {
      b.bar.update(b.done + e.done / Math.max(1, e.total), { status: 'disk' });
      return;
    }
    if (e.type === 'step' && e.status === 'done') b.done += 1;
    const text = describe(e);
    if (text) b.bar.update(b.done, { status: text });
  };
  return { sink, stop: () => multi.stop() };
}
