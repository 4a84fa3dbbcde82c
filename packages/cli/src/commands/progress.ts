import type { ProgressEvent, ProgressSink } from '@agentfleet/core';
import cliProgress from 'cli-progress';

/**
 * Renders engine progress on stderr: one live bar per agent on a terminal, plain lines
 * otherwise (CI logs, pipes), so stdout keeps only the result.
 */
export function progressSink(opts: { interactive: boolean }): { sink: ProgressSink; stop(): void } {
  return opts.interactive ? barSink() : lineSink();
}

function describe(e: ProgressEvent): string | undefined {
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
  const bars = new Map<string, cliProgress.SingleBar>();
  const bar = (agent: string) => {
    let b = bars.get(agent);
    if (!b) {
      b = multi.create(100, 0, { agent: agent.padEnd(12), status: '' });
      bars.set(agent, b);
    }
    return b;
  };
  const sink: ProgressSink = (e) => {
    if (e.type === 'plan') return;
    if (e.type === 'bytes') {
      bar(e.agent).update(Math.round((100 * e.done) / Math.max(1, e.total)), { status: 'disk' });
      return;
    }
    const text = describe(e);
    if (!text) return;
    const b = bar(e.agent);
    b.update(e.type === 'agent' ? 100 : b.getProgress() * 100, { status: text });
  };
  return { sink, stop: () => multi.stop() };
}
