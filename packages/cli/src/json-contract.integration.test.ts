// Every --json output of the built CLI (success, failure, usage error) validates against its
// published schema in docs/json/, and exit codes follow the table in docs/json.md.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, runCli, tempFleet } from '@agentfleet/testing/run-cli';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';

const SCHEMAS = join(REPO, 'docs', 'json');
const ajv = new Ajv2020({ allErrors: true, strictTypes: false });
for (const f of readdirSync(SCHEMAS)) ajv.addSchema(JSON.parse(readFileSync(join(SCHEMAS, f), 'utf8')));

/** Runs `fleet --json ...args` and checks its stdout against `schema`; returns the parsed output. */
function jsonRun(dir: string, args: string[], schema: string, exit: number): Record<string, unknown> {
  const r = runCli(['--json', ...args], dir);
  expect(r.status, r.stderr).toBe(exit);
  const out = JSON.parse(r.stdout) as Record<string, unknown>;
  const validate = ajv.getSchema(`https://agentfleet.invalid/json/${schema}.schema.json`);
  if (!validate) throw new Error(`no schema ${schema}`);
  expect(validate(out) ? [] : validate.errors, JSON.stringify(out)).toEqual([]);
  return out;
}

// test:///default needs no daemon: plan and status read an empty host.
const fleetFiles = {
  'agents/fleet.yaml':
    'libvirtUri: test:///default\nstateDir: ./state\nbaseImage: ./base.qcow2\nreservedCores: []\nsshPorts: { start: 37600, end: 37650 }\nspicePorts: { start: 37700, end: 37750 }\n',
  'agents/clj.yaml': 'memory: 256MiB\nvcpus: 1\nshareCores: true\ngit: { email: clj@example.org }\n',
  'base.qcow2': '',
};

describe('--json contract', () => {
  const dir = tempFleet(fleetFiles);

  it('validate, allocate, status and plan validate against their schemas', () => {
    expect(jsonRun(dir, ['validate'], 'validate', 0)).toMatchObject({ ok: true, command: 'validate' });
    jsonRun(dir, ['allocate'], 'allocate', 0);
    const status = jsonRun(dir, ['status'], 'status', 0);
    expect(status.agents).toMatchObject([{ name: 'clj', state: 'undefined', phase: 'declared' }]);
    const plan = jsonRun(dir, ['plan'], 'plan', 0) as { plan: { actions: Record<string, unknown>[] } };
    // No internals: the desired XML, spec hashes and raw QEMU arguments stay inside.
    expect(JSON.stringify(plan)).not.toMatch(/specHash|qemu:commandline|<domain/);
    expect(plan.plan.actions[0]).toMatchObject({ agent: 'clj', kind: 'create', phase: 'declared' });
  });

  it('a damaged state.json: status and plan still answer and name the damage; up refuses', () => {
    const damaged = tempFleet({ ...fleetFiles, 'state/state.json': '{"version": 1, "agents": {"clj": ' });
    const status = jsonRun(damaged, ['status'], 'status', 0);
    expect(status.agents).toMatchObject([{ name: 'clj', state: 'undefined' }]);
    expect(status.stateDamage).toMatch(/state\.json: not valid JSON/);
    const human = runCli(['status'], damaged);
    expect(human.status, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/clj[\s\S]*state\.json is damaged \(.*state\.json: not valid JSON/);
    const plan = runCli(['plan'], damaged);
    expect(plan.status, plan.stderr).toBe(0);
    expect(plan.stderr).toMatch(/state\.json: not valid JSON.*the plan below assumes nothing was recorded/);
    const up = runCli(['up'], damaged);
    expect(up.status).toBe(1);
    expect(up.stderr).toMatch(/state\.json: not valid JSON/);
  });

  it('usage errors, unknown agents and invalid files are error envelopes with exit 2', () => {
    for (const args of [['bogus'], ['status', 'nosuch'], ['plan', 'nosuch'], ['up', '--concurrency', '0']]) {
      const out = jsonRun(dir, args, 'error', 2);
      expect(out.error, args.join(' ')).toMatchObject({ code: 'usage' });
    }
    const bad = tempFleet({ ...fleetFiles, 'agents/clj.yaml': 'vcpus: many\n' });
    const out = jsonRun(bad, ['validate'], 'validate', 2);
    expect(out).toMatchObject({
      ok: false,
      error: { code: 'invalid' },
      diagnostics: [{ file: 'agents/clj.yaml' }],
    });
  });

  it('a failure is an error envelope with exit 1', () => {
    // No base image: the plan cannot say what a new disk would copy.
    const { 'base.qcow2': _, ...withoutBase } = fleetFiles;
    const r = runCli(['--json', 'plan'], tempFleet(withoutBase));
    expect(r.status, r.stderr).toBe(1);
    expect(JSON.parse(r.stdout).error.remedy).toContain('result/nixos.qcow2');
    const validate = ajv.getSchema('https://agentfleet.invalid/json/error.schema.json');
    expect(validate?.(JSON.parse(r.stdout)), r.stdout).toBe(true);
  });
});

describe('exit codes', () => {
  it('--version prints the version and exits 0', () => {
    const r = runCli(['--version'], '/');
    expect(r.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
    expect(r.status).toBe(0);
  });

  it('plan --detailed-exitcode: 2 when up has work, 0 when not', () => {
    const dir = tempFleet(fleetFiles);
    expect(runCli(['plan', '--detailed-exitcode'], dir).status).toBe(2);
    expect(runCli(['plan'], dir).status).toBe(0);
    const none = tempFleet({ 'agents/fleet.yaml': fleetFiles['agents/fleet.yaml'], 'base.qcow2': '' });
    expect(runCli(['plan', '--detailed-exitcode'], none).status).toBe(0);
  });
});
