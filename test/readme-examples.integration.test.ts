// README's commands are what a new user copies: every `fleet ...` line of its code blocks and every
// `fleet ...` it quotes in the text must name a real command and real options (checked against that
// command's own --help, global options included), the ones that need no VM are run as written on a
// scratch copy of the repository's fleet, and the npm scripts and files it names exist. So README
// cannot drift from the CLI. The same holds for the examples in every command's own --help.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureLibvirtd, systemUri } from '@agentfleet/testing';
import {
  blockExamples,
  commandWords,
  type Example,
  examplesOf,
  quotedExamples,
  readme,
  readmeBlocks,
} from '@agentfleet/testing/readme-examples';
import { CLI, REPO, runCli, shippedFleet } from '@agentfleet/testing/run-cli';
import type { Command } from 'commander';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { fleetProgram } from '../packages/cli/src/program.js';

// The CLI's own command tree, in this process: each command's --help as `fleet CMD --help` prints it.
const program = await fleetProgram(undefined);
const helpCache = new Map<string, { ok: boolean; text: string }>();
function helpOf(words: string[]): { ok: boolean; text: string } {
  const key = words.join(' ');
  const cached = helpCache.get(key);
  if (cached) return cached;
  let command: Command | undefined = program;
  for (const w of words) command = command?.commands.find((c) => c.name() === w);
  let text = '';
  if (command) {
    command.configureOutput({ writeOut: (t) => (text += t), writeErr: (t) => (text += t) });
    command.outputHelp();
  }
  const help = { ok: command !== undefined, text: command ? text : `no command fleet ${key}` };
  helpCache.set(key, help);
  return help;
}

/** What is wrong with an example: a command that does not exist, an option it does not have. */
function problemsOf(ex: Example): string[] {
  const command = commandWords(ex.words);
  const h = helpOf(command);
  if (!h.ok || (command.length > 0 && !h.text.includes(`Usage: fleet ${command.join(' ')}`)))
    return [`${ex.source}: \`fleet ${command.join(' ')} --help\` failed: ${h.text.slice(0, 200)}`];
  const end = ex.words.indexOf('--');
  return (end < 0 ? ex.words : ex.words.slice(0, end))
    .filter((w) => w.startsWith('-') && w !== '-')
    .map((w) => w.replace(/=.*$/, ''))
    .filter((option) => {
      const listed = option.startsWith('--')
        ? new RegExp(`(^|[\\s,])${option}\\b`, 'm')
        : new RegExp(`(^|\\s)${option},`, 'm');
      return !listed.test(h.text);
    })
    .map((option) => `${ex.source}: ${option} is not an option of fleet ${command.join(' ')}`);
}

describe('README examples', () => {
  it('finds the examples it checks', () => {
    // A README rewritten so that nothing matches would otherwise pass everything below.
    expect(blockExamples.length).toBeGreaterThan(30);
    expect(quotedExamples.length).toBeGreaterThan(15);
  });

  it('every command exists and every option it uses is in that command’s --help', () => {
    expect([...blockExamples, ...quotedExamples].flatMap(problemsOf)).toEqual([]);
  });

  it("every command's --help ends with examples, which use only its options", () => {
    const commands = program.commands.flatMap((c) =>
      c.commands.length > 0 ? c.commands.map((sub) => [c.name(), sub.name()]) : [[c.name()]],
    );
    expect(commands.length).toBeGreaterThan(25);
    const missing = commands.filter((c) => !/\nExamples:\n {2}\S/.test(helpOf(c).text));
    expect(missing.map((c) => c.join(' '))).toEqual([]);
    // Each example line, from its `fleet` on (`printf ... | fleet ...`), up to a pipe into another program.
    const shown = commands.flatMap((c) =>
      (helpOf(c).text.split('\nExamples:\n')[1] ?? '')
        .split('\n')
        .map((l) => /(?:^|\| )(fleet [^|]*)/.exec(l.trim())?.[1]?.trim())
        .filter((l): l is string => l !== undefined)
        .flatMap(examplesOf),
    );
    expect(shown.length).toBeGreaterThan(commands.length);
    expect(shown.flatMap(problemsOf)).toEqual([]);
  });

  it('the npm scripts and scripts/ files it names exist', () => {
    const scripts = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { scripts: object })
      .scripts;
    const named = [...readme.matchAll(/npm run ([\w:]+)/g)].map((m) => m[1] as string);
    expect(named.length).toBeGreaterThan(3);
    expect(named.filter((s) => !(s in scripts))).toEqual([]);
    const files = [
      ...readme.matchAll(
        /\b((?:scripts|bench|docs|packages|test|hosts)\/[\w./-]+\.(?:sh|ts|md|json|nix))\b/g,
      ),
    ]
      .map((m) => m[1] as string)
      .filter((f) => !f.includes('*'));
    expect(files.filter((f) => !existsSync(join(REPO, f)))).toEqual([]);
  });

  it('its YAML blocks are YAML', () => {
    for (const b of readmeBlocks.filter((x) => x.lang === 'yaml')) expect(() => parse(b.text)).not.toThrow();
  });
});

// Several CLI processes a case: generous for a loaded 2-core machine (1.4 s a `validate` at load 30); it measures nothing.
describe('README examples that need no VM, run as written on a copy of the repository fleet', {
  timeout: 180_000,
}, () => {
  // The repository's own agents (drago, luce) and settings, with a private state dir and a base
  // image, on this machine's libvirtd (as root: the system one): what a user who cloned the
  // repository runs first.
  beforeAll(() => ensureLibvirtd());
  const dir = shippedFleet();
  const fleetYaml = join(dir, 'agents', 'fleet.yaml');
  writeFileSync(
    fleetYaml,
    readFileSync(fleetYaml, 'utf8')
      .replace(/^libvirtUri:.*$/m, `libvirtUri: ${systemUri}`)
      .replace(/^stateDir:.*$/m, `stateDir: ${join(dir, 'state')}`)
      .replace(/^baseImage:.*$/m, `baseImage: ${join(dir, 'base.qcow2')}`),
  );
  // A qcow2 header: what the plan and doctor read of a base image.
  writeFileSync(
    join(dir, 'base.qcow2'),
    Buffer.concat([Buffer.from([0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 3]), Buffer.alloc(504)]),
  );
  const run = (words: string[]) => runCli(words, dir);
  const lines = new Map(blockExamples.map((ex) => [ex.words.join(' '), ex]));
  const example = (text: string) => {
    const ex = lines.get(text);
    if (!ex) throw new Error(`README no longer shows \`fleet ${text}\``);
    return ex.words;
  };

  it('validate, plan, status, add carla, plan --detailed-exitcode', () => {
    expect(readFileSync(fleetYaml, 'utf8')).toMatch(/^stateDir: \/tmp\//m);
    const validate = run(example('validate'));
    expect(validate.status, validate.stderr).toBe(0);
    const plan = run(example('plan'));
    expect(plan.status, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/drago/);
    expect(run(example('status --json')).status).toBe(0);
    const status = run(example('status'));
    expect(status.status, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/luce/);
    // The example README says works on the 2-core reference machine this runs on.
    const add = run(example('add carla --memory 4GiB --vcpus 2 --share-cores --git-email carla@example.org'));
    expect(add.status, add.stderr).toBe(0);
    expect(existsSync(join(dir, 'agents', 'carla.yaml'))).toBe(true);
    expect(run(example('validate')).status).toBe(0);
    expect(run(example('plan --detailed-exitcode')).status).toBe(2);
  });

  it('doctor reports each check; logs, spice --print, secrets list answer without a VM', () => {
    const doctor = run(example('doctor'));
    // 0 or 1 depends on this machine (e.g. no remote-viewer is a warning, no passt a failure).
    expect([0, 1], doctor.stderr).toContain(doctor.status);
    expect(doctor.stdout).toMatch(/^(ok|warn|fail)\s+base image/m);
    const logs = run(example('logs drago -f').filter((w) => w !== '-f'));
    expect(logs.status, logs.stderr).toBe(0);
    expect(logs.stdout).toMatch(/no console output yet/);
    expect(run(['spice', 'drago', '--print']).stdout).toMatch(/^spice\+unix:\/\//);
    const secrets = run(example('secrets list'));
    expect(secrets.status, secrets.stderr).toBe(0);
  });

  it('source <(fleet completion bash) defines the completion; fleet --version', () => {
    expect(example('completion bash')).toEqual(['completion', 'bash']);
    const script = `fleet() { node ${CLI} "$@"; }; source <(fleet completion bash) && complete -p fleet`;
    const r = spawnSync('bash', ['-c', script], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/complete .* fleet/);
    expect(runCli(['--version'], dir).stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});
