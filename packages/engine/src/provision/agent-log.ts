import { once } from 'node:events';
import { createWriteStream, openSync, renameSync, type WriteStream } from 'node:fs';
import { chmod, mkdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../adapters/state-dir.js';

/** Lines kept for a failure message; the full output is in the log file. */
const TAIL_LINES = 20;
/** Longest line kept for messages and the terminal; the log file has the whole line. */
const MAX_LINE = 16 * 1024;
/**
 * Size at which a provision log is rotated to `<log>.1` (replacing the previous one): a guest that
 * prints without end costs at most twice this on the host.
 */
export const PROVISION_LOG_MAX_BYTES = 4 * 1024 * 1024;

/** `<stateDir>/logs/agent-<name>.provision.log` */
export const provisionLogPath = (stateDir: string, agent: string) =>
  join(stateDir, 'logs', `agent-${agent}.provision.log`);

// Opened synchronously: a stream that opened its file later could open the next log after a rotation.
const openLog = (path: string) => createWriteStream(path, { fd: openSync(path, 'a', PRIVATE_FILE_MODE) });

/**
 * The per-agent provisioning log in the state dir: every phase's full output, appended, with
 * a header per section, plus the last lines kept in memory for failure messages. Memory is bounded
 * (TAIL_LINES lines of at most MAX_LINE characters), and so is the disk (PROVISION_LOG_MAX_BYTES,
 * one rotation kept).
 */
export class AgentLog {
  private readonly tailLines: string[] = [];
  private partial = '';
  /** The current line passed MAX_LINE: the rest of it is not kept in memory. */
  private cutting = false;
  private readonly retired: Promise<unknown>[] = [];

  private constructor(
    readonly path: string,
    private out: WriteStream,
    private size: number,
    private readonly onLine: (line: string) => void,
    private readonly maxBytes: number,
  ) {}

  static async open(
    stateDir: string,
    agent: string,
    onLine: (line: string) => void,
    maxBytes = PROVISION_LOG_MAX_BYTES,
  ): Promise<AgentLog> {
    const path = provisionLogPath(stateDir, agent);
    await mkdir(dirname(path), { recursive: true, mode: PRIVATE_DIR_MODE });
    const size = await stat(path).then(
      (s) => s.size,
      () => 0,
    );
    // A log made by an older fleet may be world-readable; it holds guest output.
    await chmod(path, PRIVATE_FILE_MODE).catch(() => {});
    return new AgentLog(path, openLog(path), size, onLine, maxBytes);
  }

  section(title: string, at: string): void {
    this.flushPartial();
    this.tailLines.length = 0;
    this.append(`\n==> ${at} ${title}\n`);
  }

  /** Raw output as it arrives; complete lines go to the line callback. */
  write(chunk: string): void {
    this.append(chunk);
    const lines = (this.partial + chunk).split(/\r?\n/);
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      if (this.cutting)
        this.cutting = false; // the end of a line already cut and reported
      else this.keep(line);
    }
    if (this.partial.length > MAX_LINE) {
      if (!this.cutting) this.keep(`${this.partial.slice(0, MAX_LINE)} [line cut at ${MAX_LINE} characters]`);
      this.partial = '';
      this.cutting = true;
    }
  }

  /** The last lines of the current section. */
  tail(): string[] {
    this.flushPartial();
    return [...this.tailLines];
  }

  async close(): Promise<void> {
    this.flushPartial();
    await Promise.all(this.retired);
    await new Promise<void>((resolve, reject) =>
      this.out.end((err?: Error | null) => (err ? reject(err) : resolve())),
    );
  }

  private append(text: string): void {
    this.out.write(text);
    this.size += Buffer.byteLength(text);
    if (this.size >= this.maxBytes) this.rotate();
  }

  /**
   * Renames the full log to `.1` and starts a new one. The old stream keeps its file descriptor,
   * so what it still has to write lands in `.1`, in order.
   */
  private rotate(): void {
    const old = this.out;
    old.end();
    this.retired.push(once(old, 'close'));
    renameSync(this.path, `${this.path}.1`);
    this.out = openLog(this.path);
    this.size = 0;
  }

  private flushPartial(): void {
    if (this.partial === '' && !this.cutting) return;
    if (this.partial !== '') {
      if (!this.cutting) this.keep(this.partial);
      this.append('\n');
    }
    this.partial = '';
    this.cutting = false;
  }

  private keep(line: string): void {
    this.tailLines.push(line);
    if (this.tailLines.length > TAIL_LINES) this.tailLines.shift();
    this.onLine(line);
  }
}
