import { closeSync, constants as fs, openSync, write } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { ReadStream } from 'node:tty';
import { agentConsole } from '@agentfleet/app/console';
import { sanitizeTerminalText } from '@agentfleet/core/terminal-text';
import { CONSOLE_DETACH_BYTE } from '@agentfleet/engine';
import type { Command } from 'commander';
import { contextOf } from '../context.js';
import { UsageError } from '../errors.js';
import { printNote } from '../output.js';
import { agentName } from './agent-name.js';

export function registerConsole(program: Command): void {
  program
    .command('console')
    .description("attach to an agent's serial console (interactive; detach with Ctrl-])")
    .argument('<name>', 'agent', agentName)
    .addHelpText(
      'after',
      '\nThe serial port is a pty that QEMU also logs to the file `fleet logs` reads, attached or not.\n' +
        'Press Enter for a fresh prompt; Ctrl-] detaches (the guest keeps running).\n' +
        'Example:\n  fleet console drago',
    )
    .action(async (name: string, _opts, command: Command) => {
      const ctx = contextOf(command);
      if (ctx.json)
        throw new UsageError(
          'fleet console is a session, not a result: it has no --json',
          'use `fleet --json logs NAME`',
        );
      const { pty } = await agentConsole(ctx, name);
      await attach(pty, name);
    });
}

/** Copies the terminal to the pty and back, raw, until Ctrl-] (or the pty closes: the domain stopped). */
async function attach(pty: string, name: string): Promise<void> {
  if (!process.stdin.isTTY)
    throw new UsageError('fleet console needs a terminal on stdin (it is interactive)');
  const fd = openSync(pty, fs.O_RDWR | fs.O_NOCTTY);
  const guest = new ReadStream(fd);
  // QEMU opens its side raw; ours too, so no line discipline echoes or rewrites what passes.
  guest.setRawMode(true);
  printNote(`connected to ${name}'s serial console (${pty}); detach with Ctrl-]`);
  process.stdin.setRawMode(true);
  await new Promise<void>((resolve) => {
    const done = () => {
      process.stdin.off('data', typed);
      process.stdin.setRawMode(false);
      process.stdin.pause();
      guest.destroy();
      resolve();
    };
    // Guest text is data, here too: colours pass, cursor/title/clipboard controls do not (full-screen
    // programs do not render; `fleet ssh` is for those). The decoder keeps UTF-8 split across reads whole.
    const decoder = new StringDecoder('utf8');
    guest.on('data', (chunk: Buffer) => process.stdout.write(sanitizeTerminalText(decoder.write(chunk))));
    guest.on('error', done);
    guest.on('close', done);
    const typed = (chunk: Buffer) => {
      const cut = chunk.indexOf(CONSOLE_DETACH_BYTE);
      const pass = cut < 0 ? chunk : chunk.subarray(0, cut);
      if (pass.length > 0) write(fd, pass, () => {});
      if (cut >= 0) done();
    };
    process.stdin.on('data', typed);
    process.stdin.resume();
  });
  try {
    closeSync(fd);
  } catch {
    // already closed with the stream
  }
  printNote(`\ndetached from ${name}'s console`);
}
