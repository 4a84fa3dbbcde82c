import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** Lines kept for a failure message; the full output is in the log file. */
const TAIL_LINES = 20;

/** `<stateDir>/logs/agent-<name>.provision.log` */
export const provisionLogPath = (stateDir: string, agent: string) =>
  join(stateDir, 'logs', `agent-${agent}.provision.log`);

/**
 * The per-agent provisioning log in the state dir: every phase's full output, appended, with
 * a header per section, plus the last lines kept in memory for failure messages.
 */
export class AgentLog {
  private readonly tailLines: string[] = [];
  private partial = '';

  private constructor(
    readonly path: string,
    private readonly out: WriteStream,
    private readonly onLine: (line: string) => void,
  ) {}

  static async open(stateDir: string, agent: string, onLine: (line: string) => void): Promise<AgentLog> {
    const path = provisionLogPath(stateDir, agent);
    await mkdir(dirname(path), { recursive: true });
    return new AgentLog(path, createWriteStream(path, { flags: 'a', mode: 0o600 }), onLine);
  }

  section(title: string, at: string): void {
    this.flushPartial();
    this.tailLines.length = 0;
    this.out.write(`\n==> ${at} ${title}\n`);
  }

  /** Raw output as it arrives; complete lines go to the line callback. */
  write(chunk: string): void {
    this.out.write(chunk);
    const lines = (this.partial + chunk).split(/\r?\n/);
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.keep(line);
  }

  /** The last lines of the current section. */
  tail(): string[] {
    this.flushPartial();
    return [...this.tailLines];
  }

  close(): Promise<void> {
    this.flushPartial();
    return new Promise((resolve, reject) =>
      this.out.end((err?: Error | null) => (err ? reject(err) : resolve())),
    );
  }

  private flushPartial(): void {
    if (this.partial === '') return;
    this.keep(this.partial);
    this.out.write('\n');
    this.partial = '';
  }

  private keep(line: string): void {
    this.tailLines.push(line);
    if (this.tailLines.length > TAIL_LINES) this.tailLines.shift();
    this.onLine(line);
  }
}
