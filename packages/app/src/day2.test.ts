import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { acquireLock, FleetLockedError, lockFile, silentLog } from '@agentfleet/engine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentHandle, consoleLogOf } from './agent-handle.js';
import { allocateFleet } from './allocate.js';
import { agentConsole } from './console.js';
import type { AppContext } from './context.js';
import { copyWithAgent } from './copy.js';
import { FleetError, UsageError } from './errors.js';
import { execOnFleet } from './exec.js';
import { consoleLog } from './logs.js';
import { restartFleet } from './restart.js';
import { revertAgent, snapshotAgent } from './snapshots.js';
import { spiceDisplay, virtViewerFile } from './spice.js';
import { sshTarget } from './ssh.js';

// The day-2 operations' decisions (which agent, which file, which socket, refused why, under the
// lock), in process on libvirt's test driver, where no agent's domain is defined: nothing here
// boots. The same operations on running VMs: test/e2e/day2.e2e.test.ts and snapshots.e2e.test.ts.
const dir = mkdtempSync('/tmp/app-day2-');
const stateDir = join(dir, 'state');
const ctx: AppContext = { dir, log: silentLog };

beforeAll(async () => {
  mkdirSync(join(dir, 'agents'));
  writeFileSync(
    join(dir, 'agents', 'fleet.yaml'),
    'libvirtUri: test:///default\nstateDir: ./state\nbaseImage: ./base.qcow2\nreservedCores: []\n' +
      'sshPorts: { start: 43100, end: 43120 }\nspicePorts: { start: 43200, end: 43220 }\n',
  );
  writeFileSync(join(dir, 'base.qcow2'), '');
  const agent = (tags: string) =>
    `memory: 256MiB\nvcpus: 1\nshareCores: true\ngit: { email: a@example.org }\ntags: ${tags}\n`;
  writeFileSync(join(dir, 'agents', 'ap-drago.yaml'), agent('[]'));
  writeFileSync(join(dir, 'agents', 'ap-luce.yaml'), agent('[ci]'));
  await allocateFleet(ctx);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('which agent', () => {
  it('an unknown agent is a usage error naming the declared ones; an unallocated one says to run up', () => {
    expect(() => agentHandle(ctx, 'nope')).toThrow(
      new UsageError("no agent named 'nope' (agents: ap-drago, ap-luce)"),
    );
    const fresh = join(dir, 'agents', 'ap-new.yaml');
    writeFileSync(fresh, 'git: { email: n@example.org }\n');
    try {
      expect(() => agentHandle(ctx, 'ap-new')).toThrow(
        /'ap-new' has no allocation yet: run 'fleet up ap-new'/,
      );
    } finally {
      rmSync(fresh);
    }
  });
});

describe('consoleLog', () => {
  it("is the tail of the agent's console log in the state dir, and follows what is appended after it", async () => {
    const path = consoleLogOf(agentHandle(ctx, 'ap-drago'));
    expect(path.startsWith(`${stateDir}/`)).toBe(true);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, 'one\ntwo\nthree\n');
    const log = await consoleLog(ctx, 'ap-drago', { lines: 2, follow: true });
    expect(log).toMatchObject({ path, lines: ['two', 'three'] });
    appendFileSync(path, 'four\n');
    const ac = new AbortController();
    let seen = '';
    await log.follow?.((text) => {
      seen += text;
      if (seen.includes('four\n')) ac.abort();
    }, ac.signal);
    // From where the tail ended: what was there before is not repeated.
    expect(seen).toBe('four\n');
    expect((await consoleLog(ctx, 'ap-drago', { lines: 10 })).follow).toBeUndefined();
  });
});

describe('sshTarget', () => {
  it('needs ssh_config, a pinned host key in it, and a running agent', async () => {
    await expect(sshTarget(ctx, 'ap-drago')).rejects.toThrow(
      /ssh_config does not exist yet: run 'fleet up ap-drago'/,
    );
    mkdirSync(stateDir, { recursive: true });
    writeFileSync(join(stateDir, 'ssh_config'), 'Host ap-luce\n  HostName 127.0.0.1\n');
    await expect(sshTarget(ctx, 'ap-drago')).rejects.toThrow(
      new UsageError("no pinned host key for 'ap-drago' yet: run 'fleet up ap-drago' first"),
    );
    const notRunning = sshTarget(ctx, 'ap-luce');
    await expect(notRunning).rejects.toThrow(FleetError);
    await expect(notRunning).rejects.toThrow('agent ap-luce has no domain; run `fleet up ap-luce`');
  });
});

describe('spiceDisplay', () => {
  it("a local agent's display is the unix socket in its run dir: no tunnel, nothing to close", async () => {
    const d = await spiceDisplay(ctx, 'ap-drago');
    const socket = join(stateDir, 'run', 'agent-ap-drago', 'spice.sock');
    expect(d).toMatchObject({ uri: `spice+unix://${socket}`, socket, domain: 'agent-ap-drago' });
    expect(d.tunnelHost).toBeUndefined();
    await d.close();
    expect(virtViewerFile(d)).toBe(`[virt-viewer]\ntype=spice\nunix-path=${socket}\ntitle=agent-ap-drago\n`);
  });
});

describe('execOnFleet', () => {
  it('runs on the agents a tag selects; one that is not running is an outcome, not a connection attempt', async () => {
    const chosen: string[][] = [];
    const outcomes = await execOnFleet(
      ctx,
      { names: [], tag: 'ci', command: 'true', concurrency: 2 },
      { agents: (a) => chosen.push([...a]), onLine: () => {} },
    );
    expect(chosen).toEqual([['ap-luce']]);
    expect(outcomes).toEqual([
      { agent: 'ap-luce', error: 'agent ap-luce has no domain; run `fleet up ap-luce`' },
    ]);
  });

  it('a selection that means nothing is a usage error', async () => {
    const run = (sel: { names: string[]; tag?: string }) =>
      execOnFleet(ctx, { ...sel, command: 'true', concurrency: 1 }, { onLine: () => {} });
    await expect(run({ names: [], tag: 'web' })).rejects.toThrow(
      new UsageError("no agent has the tag 'web' (tags in use: ci; set tags: [..] in agents/<name>.yaml)"),
    );
    await expect(run({ names: [] })).rejects.toThrow(UsageError);
  });
});

describe('the other operations refuse before touching an agent', () => {
  it('a bad snapshot label is a usage error', async () => {
    await expect(snapshotAgent(ctx, 'ap-drago', 'no spaces')).rejects.toThrow(UsageError);
    await expect(revertAgent(ctx, 'ap-drago', '../x')).rejects.toThrow(UsageError);
  });

  it('cp needs a pinned host key; console a running agent', async () => {
    await expect(
      copyWithAgent(ctx, { agent: 'ap-drago', direction: 'upload', local: dir, remote: '/tmp/x' }, false),
    ).rejects.toThrow(new UsageError("no pinned host key for 'ap-drago' yet: run 'fleet up ap-drago' first"));
    await expect(agentConsole(ctx, 'ap-drago')).rejects.toThrow('agent ap-drago has no domain');
  });

  it('restart takes the state dir lock: another holder stops it before it acts', async () => {
    const release = await acquireLock(lockFile(stateDir), 'someone else');
    try {
      await expect(
        restartFleet(ctx, { names: ['ap-drago'], concurrency: 1 }, { holder: 'test' }),
      ).rejects.toThrow(FleetLockedError);
    } finally {
      await release();
    }
    const outcomes = await restartFleet(ctx, { names: ['ap-drago'], concurrency: 1 }, { holder: 'test' });
    expect(outcomes).toMatchObject([{ agent: 'ap-drago', ok: false }]);
  });

  it("a port of one agent held by an outsider fails that agent's restart, not the command", async () => {
    const squatter = createServer();
    await new Promise<void>((r) => squatter.listen(agentHandle(ctx, 'ap-luce').sshPort, '127.0.0.1', r));
    try {
      const outcomes = await restartFleet(ctx, { names: [], concurrency: 2 }, { holder: 'test' });
      // Neither runs here (no domain on the test driver): ap-drago says so, ap-luce names what holds its port.
      expect(outcomes.map((o) => [o.agent, o.ok])).toEqual([
        ['ap-drago', false],
        ['ap-luce', false],
      ]);
      expect(outcomes[0]?.error).not.toContain(`process ${process.pid} `);
      expect(outcomes[1]?.error).toContain(`process ${process.pid} `);
    } finally {
      await new Promise((r) => squatter.close(r));
    }
  });
});
