// Every command's --json output has a published schema (docs/json/), and every schema is checked
// against a command's real output by some test. Here, the outputs that need no VM: `import` of a
// domain no fleet owns (on libvirt's test driver), `remove`, and what cp, keys, snapshot, snapshots,
// revert, reset, restart and exec print before the agent has a VM. Their results on a running agent
// are validated in test/e2e/snapshots.e2e.test.ts.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StepKind } from '@agentfleet/core';
import { jsonRun, schemaNames } from '@agentfleet/testing/json-schemas';
import { REPO, runCli, tempFleet } from '@agentfleet/testing/run-cli';
import { describe, expect, it } from 'vitest';
import { fleetProgram } from './program.js';

const fleetYaml = (uri: string) =>
  `libvirtUri: ${uri}\nstateDir: ./state\nbaseImage: ./base.qcow2\nreservedCores: []\nsshPorts: { start: 43600, end: 43650 }\nspicePorts: { start: 43700, end: 43750 }\n`;
const agentYaml = (name: string) =>
  `memory: 256MiB\nvcpus: 1\nshareCores: true\ngit: { email: ${name}@example.org }\n`;

/** Test files of the repository (packages' sources and test/), without dependencies. */
function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory())
      return ['node_modules', 'dist', '.cache', '.git'].includes(e.name) ? [] : testFiles(path);
    return /\.test\.ts$/.test(e.name) ? [path] : [];
  });
}

/**
 * The schemas some test validates real output against: the schema argument of each
 * `expectSchema(output, 'name')` and `jsonRun(dir, [...args], 'name', exit)` call.
 */
function validatedSchemas(): Set<string> {
  const names = new Set<string>();
  for (const file of [...testFiles(join(REPO, 'packages')), ...testFiles(join(REPO, 'test'))]) {
    const text = readFileSync(file, 'utf8');
    for (const call of text.matchAll(/\b(expectSchema|jsonRun)\(/g)) {
      const statement = text.slice(call.index, text.indexOf(';', call.index));
      const schema =
        call[1] === 'expectSchema'
          ? /,\s*'([a-z-]+)'\s*\)/.exec(statement)?.[1]
          : /\],\s*'([a-z-]+)',\s*\d/.exec(statement)?.[1];
      if (schema) names.add(schema);
    }
  }
  return names;
}

describe('which commands have a schema', () => {
  // Sessions, not results: --json is a usage error (json-contract.integration.test.ts).
  const SESSIONS = ['ssh', 'console'];

  it("the plan schema's step vocabulary is the engine's", () => {
    // A StepKind added to core without the schema fails to compile here, and then this test.
    const steps: Record<StepKind, true> = {
      'create-disk': true,
      define: true,
      autostart: true,
      start: true,
      restart: true,
      'await-ssh': true,
      provision: true,
      stop: true,
      'power-off': true,
      undefine: true,
      'delete-disk': true,
      'delete-files': true,
    };
    const schema = readFileSync(join(REPO, 'docs', 'json', 'plan.schema.json'), 'utf8');
    const listed = /"steps":\s*\{\s*"type": "array",\s*"items":\s*\{\s*"enum":\s*(\[[^\]]*\])/.exec(
      schema,
    )?.[1];
    expect(JSON.parse(listed ?? '[]').sort()).toEqual(Object.keys(steps).sort());
  });

  it('every command that prints a result has a schema, and docs/json.md names it', async () => {
    const program = await fleetProgram(undefined);
    const commands = program.commands.flatMap((c) =>
      c.commands.length > 0 ? c.commands.map((sub) => `${c.name()} ${sub.name()}`) : [c.name()],
    );
    expect(commands.length).toBeGreaterThan(25);
    const schemas = new Set(schemaNames());
    expect(commands.filter((c) => !schemas.has(c.replace(' ', '-')) && !SESSIONS.includes(c))).toEqual([]);
    const docs = readFileSync(join(REPO, 'docs', 'json.md'), 'utf8');
    expect(commands.filter((c) => !docs.includes(`\`${c}\``))).toEqual([]);
  });

  it("every schema is checked against a command's real output by a test", () => {
    const validated = validatedSchemas();
    // The scan finds what it must (a scan that found nothing would pass everything below).
    expect(validated).toContain('status');
    expect(schemaNames().filter((s) => s !== 'envelope' && !validated.has(s))).toEqual([]);
  });
});

// A dozen CLI processes a case: generous for a loaded 2-core machine; it measures nothing.
describe('outputs that need no VM', { timeout: 180_000 }, () => {
  /**
   * A fleet declaring carla, on libvirt's test driver loaded from a file: each connection (each fleet
   * run) starts from the domain agent-carla defined there, which no fleet owns, on a real qcow2 disk.
   */
  function fleetWithHandMadeDomain(): { dir: string; disk: string } {
    const dir = tempFleet({ 'agents/carla.yaml': agentYaml('carla'), 'base.qcow2': '' });
    const disk = join(dir, 'hand.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '16M']);
    const node = join(dir, 'host.xml');
    writeFileSync(
      node,
      `<node>
  <cpu><nodes>1</nodes><sockets>1</sockets><cores>2</cores><threads>1</threads><active>2</active><mhz>1000</mhz><model>x86_64</model></cpu>
  <memory>4194304</memory>
  <domain type='test'>
    <name>agent-carla</name><memory unit='MiB'>256</memory><vcpu>1</vcpu><os><type>hvm</type></os>
    <devices>
      <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${disk}'/><target dev='vda' bus='virtio'/></disk>
      <interface type='user'><mac address='52:54:00:0e:0e:02'/></interface>
      <graphics type='spice' port='43710' autoport='no'><listen type='address' address='127.0.0.1'/></graphics>
    </devices>
  </domain>
</node>
`,
    );
    writeFileSync(join(dir, 'agents', 'fleet.yaml'), fleetYaml(`test://${node}`));
    return { dir, disk };
  }

  it("import adopts a domain no fleet owns: --dry-run, the import, and README's `fleet import carla` as written; raw QEMU arguments are named, not shown", () => {
    const { dir, disk } = fleetWithHandMadeDomain();
    const dry = jsonRun(dir, ['import', 'carla', '--dry-run'], 'import', 0);
    expect(dry).toMatchObject({ agent: 'carla', domain: 'agent-carla', applied: false, alreadyOurs: false });
    expect(dry.fields).toEqual(
      expect.arrayContaining([
        { field: 'spicePort', found: '43710', recorded: '43710' },
        { field: 'mac', found: '52:54:00:0e:0e:02', recorded: '52:54:00:0e:0e:02' },
        { field: 'disk', found: disk, recorded: disk },
      ]),
    );
    // The agent's isolated network is QEMU arguments the domain lacks: the change is named, its values stay inside.
    expect(dry.changes).toContainEqual({ field: 'qemu-args' });
    expect(JSON.stringify(dry)).not.toMatch(/-netdev|passt\.sock|"ledger"/);
    expect(existsSync(join(dir, 'agents', 'ledger.yaml'))).toBe(false);
    const applied = jsonRun(dir, ['import', 'carla'], 'import', 0);
    expect(applied).toMatchObject({ applied: true, running: true });
    expect(readFileSync(join(dir, 'agents', 'ledger.yaml'), 'utf8')).toContain(`disk: ${disk}`);

    // A fresh fleet: the test driver forgets the redefinition when a run ends, and a domain that is
    // not this fleet's holding the ports the ledger now records would be a conflict.
    const readme = fleetWithHandMadeDomain();
    const human = runCli(['import', 'carla'], readme.dir);
    expect(human.status, human.stderr).toBe(0);
    expect(human.stdout).toContain('Imported domain agent-carla on test://');
    expect(human.stdout).toContain('spicePort: 43710 (kept)');
  });

  it("remove validates (destroy's shape) and deletes the YAML of an agent never brought up (no `fleet up` first)", () => {
    const dir = tempFleet({
      'agents/fleet.yaml': fleetYaml('test:///default'),
      'agents/clj.yaml': agentYaml('clj'),
      'agents/cl2.yaml': agentYaml('cl2'),
      'base.qcow2': '',
    });
    const out = jsonRun(dir, ['remove', 'cl2', '--yes'], 'remove', 0);
    expect(out).toMatchObject({ ok: true, command: 'remove', plan: { goal: 'destroy' } });
    expect(existsSync(join(dir, 'agents', 'cl2.yaml'))).toBe(false);
    expect(readFileSync(join(dir, 'agents', 'ledger.yaml'), 'utf8')).not.toContain('cl2');
  });

  it('before the agent has a VM: each command says so in its own envelope, with the remedy', () => {
    const dir = tempFleet({
      'agents/fleet.yaml': fleetYaml('test:///default'),
      'agents/clj.yaml': agentYaml('clj'),
      'base.qcow2': '',
    });
    // Not even allocated: the agent has no domain name on a host yet.
    expect(jsonRun(dir, ['snapshots', 'clj'], 'snapshots', 2).error).toMatchObject({
      code: 'usage',
      message: "agent 'clj' has no allocation yet: run 'fleet up clj'",
    });
    expect(runCli(['allocate'], dir).status).toBe(0);
    const noDomain = { code: 'failed', message: 'agent clj has no domain yet', remedy: 'run `fleet up clj`' };
    expect(jsonRun(dir, ['snapshots', 'clj'], 'snapshots', 1).error).toEqual(noDomain);
    expect(jsonRun(dir, ['snapshot', 'clj', 'first'], 'snapshot', 1).error).toEqual(noDomain);
    expect(jsonRun(dir, ['revert', 'clj', 'first'], 'revert', 1).error).toEqual(noDomain);
    // What restart and exec say of each agent (engine/day2/power.ts).
    const notUp = 'agent clj has no domain; run `fleet up clj`';
    expect(jsonRun(dir, ['snapshot', 'clj', '--delete'], 'snapshot', 2).error).toMatchObject({
      code: 'usage',
    });
    expect(jsonRun(dir, ['restart', 'clj'], 'restart', 1).agents).toEqual([
      { agent: 'clj', ok: false, error: notUp },
    ]);
    expect(jsonRun(dir, ['exec', 'clj', '--', 'true'], 'exec', 1)).toMatchObject({
      command: 'exec',
      argv: ['true'],
      agents: [{ agent: 'clj', error: notUp }],
    });
    expect(jsonRun(dir, ['keys', 'clj'], 'keys', 1).error).toMatchObject({
      message: expect.stringContaining('run fleet up clj first'),
    });
    expect(jsonRun(dir, ['cp', './notes.md', 'clj:/tmp/'], 'cp', 2).error).toMatchObject({
      message: "no pinned host key for 'clj' yet: run 'fleet up clj' first",
    });
    expect(jsonRun(dir, ['cp', './a', './b'], 'cp', 2).error).toMatchObject({ code: 'usage' });
    expect(jsonRun(dir, ['reset', 'clj', '--yes'], 'reset', 2).error).toMatchObject({
      message: expect.stringContaining("agent 'clj' has no pinned host key"),
    });
    // The human form says the same, without libvirt's "Domain not found".
    const human = runCli(['snapshots', 'clj'], dir);
    expect(human.status).toBe(1);
    expect(human.stderr).toContain('agent clj has no domain yet\n  run `fleet up clj`');
    expect(human.stderr).not.toContain('Domain not found');
  });
});
