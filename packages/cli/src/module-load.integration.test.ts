// What read-only commands load: every module the built CLI loads costs start-up time on each run,
// so `status` and `plan` must not pull in the provisioning side (SSH, age, progress bars) or, for
// `status`, the engine's workflows and the XML builder. One import of an index instead of a module
// is enough to undo it (status went from 179 to 268 modules that way), hence a test, not a bench.
// It runs the unbundled build (dist/cli.js), module by module: `fleet` runs them from one bundle
// (scripts/bundle-cli.mjs) where a module is still evaluated when it is imported and a lazily
// loaded one is not, so what this test keeps out of the graph stays out of the bundle's work.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { portBlock } from '@agentfleet/testing';
import { CLI_UNBUNDLED, runCli, tempFleet } from '@agentfleet/testing/run-cli';
import { describe, expect, it } from 'vitest';

const PORTS = portBlock(200);
const fleetFiles = {
  'agents/fleet.yaml': `libvirtUri: test:///default\nstateDir: ./state\nbaseImage: ./base.qcow2\nreservedCores: []\nsshPorts: { start: ${PORTS}, end: ${PORTS + 99} }\nspicePorts: { start: ${PORTS + 100}, end: ${PORTS + 199} }\n`,
  'agents/clj.yaml': 'memory: 256MiB\nvcpus: 1\nshareCores: true\ngit: { email: clj@example.org }\n',
  'base.qcow2': '',
  // Node's module hooks (run in their own thread) append the URL of every module loaded.
  'hooks/record.mjs': `import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  appendFileSync(process.env.AGENTFLEET_TEST_MODULE_LOG, url + '\\n');
  return next(url, context);
}
`,
  'hooks/register.mjs': `import { register } from 'node:module';
register(new URL('./record.mjs', import.meta.url));
`,
};

/** The file URLs of the modules `fleet <args>` loaded (ESM, plus each CommonJS package's entry). */
function modulesLoaded(dir: string, args: string[], log: string): string[] {
  writeFileSync(log, '');
  const r = runCli(
    args,
    dir,
    {
      NODE_OPTIONS: `--import=${pathToFileURL(join(dir, 'hooks/register.mjs'))}`,
      AGENTFLEET_TEST_MODULE_LOG: log,
    },
    CLI_UNBUNDLED,
  );
  expect(r.status, r.stderr).toBe(0);
  return readFileSync(log, 'utf8').split('\n').filter(Boolean);
}

const fromPackage = (urls: string[], pkg: string) => urls.filter((u) => u.includes(`/node_modules/${pkg}/`));

describe('modules loaded by read-only commands', () => {
  const dir = tempFleet(fleetFiles);
  const log = join(dir, 'modules.log');

  it('status loads no workflow, provisioning, XML or YAML-writing code', () => {
    const urls = modulesLoaded(dir, ['status'], log);
    // The recorder sees the CLI itself: an empty list would pass everything below.
    expect(urls.some((u) => u.endsWith('/packages/cli/dist/cli.js'))).toBe(true);
    for (const pkg of ['ssh2', 'age-encryption', 'xmlbuilder2', 'yaml', 'pino', 'cli-progress'])
      expect(fromPackage(urls, pkg), pkg).toEqual([]);
    const indexes = /\/packages\/(core\/dist|engine\/dist|engine\/dist\/provision)\/index\.js$/;
    expect(urls.filter((u) => indexes.test(u) || u.endsWith('/packages/engine/dist/engine.js'))).toEqual([]);
  });

  it('--version loads no command', () => {
    const urls = modulesLoaded(dir, ['--version'], log);
    expect(urls.some((u) => u.endsWith('/packages/cli/dist/cli.js'))).toBe(true);
    expect(urls.filter((u) => u.includes('/packages/cli/dist/commands/'))).toEqual([]);
  });

  it('logs of a local agent loads no SSH or age (they load for --journal, when it connects)', () => {
    expect(runCli(['allocate'], dir).status).toBe(0);
    mkdirSync(join(dir, 'state'), { recursive: true });
    writeFileSync(join(dir, 'state', 'agent-clj.console.log'), 'AGENTFLEET READY\n');
    const urls = modulesLoaded(dir, ['logs', 'clj'], log);
    expect(urls.some((u) => u.includes('/packages/cli/dist/commands/logs.js'))).toBe(true);
    for (const pkg of ['ssh2', 'age-encryption']) expect(fromPackage(urls, pkg), pkg).toEqual([]);
  });

  it('plan loads no SSH, age or progress bar', () => {
    const urls = modulesLoaded(dir, ['plan'], log);
    expect(urls.some((u) => u.includes('/packages/engine/dist/'))).toBe(true);
    for (const pkg of ['ssh2', 'age-encryption', 'cli-progress'])
      expect(fromPackage(urls, pkg), pkg).toEqual([]);
  });
});
