// Passphrase-protected admin keys: asked for on the terminal, once per key and run, never echoed,
// never on argv, never logged. Without a terminal there is no one to ask: a clear refusal instead.
import { FleetError } from './errors.js';

const asked = new Map<string, Promise<string>>();

/** Reads a line from the terminal without echoing it (stdin in raw mode). */
function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  return new Promise((resolve, reject) => {
    let answer = '';
    // Echo off before the prompt shows: an answer typed the moment it appears is never echoed, even
    // when this process is descheduled (or paused for GC) between the two.
    stdin.setRawMode(true);
    process.stderr.write(question);
    stdin.resume();
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(answer);
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new FleetError('interrupted while asking for a passphrase'));
        if (ch === '\u007f' || ch === '\b') answer = answer.slice(0, -1);
        else answer += ch;
      }
    };
    stdin.on('data', onData);
  });
}

/** The passphrase of the key at `path`, asked on the terminal (once per run), or a refusal. */
export function askPassphrase(path: string): Promise<string> {
  let p = asked.get(path);
  if (!p) {
    if (!process.stdin.isTTY || !process.stderr.isTTY) {
      return Promise.reject(
        new FleetError(
          `${path} is passphrase-protected and there is no terminal to ask for its passphrase on`,
          'run the command on a terminal, or name an unencrypted admin key (or age identity) with -i / adminIdentity in agents/fleet.yaml',
        ),
      );
    }
    // One prompt at a time: agents provisioned in parallel may want the same key at once.
    const previous = [...asked.values()].at(-1) ?? Promise.resolve('');
    p = previous.catch(() => '').then(() => promptHidden(`passphrase for ${path}: `));
    asked.set(path, p);
  }
  return p;
}
