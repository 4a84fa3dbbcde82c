// `networkFirewall`: passt confined to a system user whose traffic fleet's nftables table filters.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, chown, lstat, mkdir, readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { firewallTableName, PASST_USER, passtFirewallScript, resolvConfServers } from '@agentfleet/core';

const run = promisify(execFile);

/**
 * Confined passts bind their sockets here (0700, owned by PASST_USER): the user passt runs as
 * cannot enter fleet's 0700 state dir. The path in the domain XML, in the state dir, is a symlink
 * to it, so the domain is the same whichever way its passt runs.
 */
export const CONFINED_SOCKET_DIR = '/run/agentfleet-passt';

/** Names a fleet by its state dir (`<stateDir>/run/agent-<name>/passt.sock` -> `<stateDir>`). */
export const fleetKeyOf = (socketPath: string) =>
  createHash('sha256')
    .update(dirname(dirname(dirname(socketPath))))
    .digest('hex')
    .slice(0, 12);

/** Where a confined passt binds the socket of socketPath: `<dir>/<fleetKey>-agent-<name>.sock`. */
export const confinedSocketOf = (socketPath: string) =>
  join(CONFINED_SOCKET_DIR, `${fleetKeyOf(socketPath)}-${basename(dirname(socketPath))}.sock`);

export const isConfinedSocketOfFleet = (path: string, fleetKey: string) =>
  path.startsWith(`${CONFINED_SOCKET_DIR}/${fleetKey}-`);

export interface PasstIdentity {
  uid: number;
  gid: number;
}

/** PASST_USER's ids, creating the system user (no home, no login) the first time. */
export async function ensurePasstUser(): Promise<PasstIdentity> {
  const found = await lookupUser();
  if (found) return found;
  try {
    await run('useradd', [
      '--system',
      '--user-group',
      '--no-create-home',
      '--home-dir',
      '/nonexistent',
      '--shell',
      '/usr/sbin/nologin',
      '--comment',
      'agentfleet confined passt of isolated agents',
      PASST_USER,
    ]);
  } catch (err) {
    // Another fleet may have made it at the same moment.
    const raced = await lookupUser();
    if (raced) return raced;
    throw new Error(`cannot create the system user ${PASST_USER} (${(err as Error).message.trim()})`);
  }
  const made = await lookupUser();
  if (!made) throw new Error(`useradd made no user ${PASST_USER}`);
  return made;
}

async function lookupUser(): Promise<PasstIdentity | undefined> {
  try {
    const { stdout } = await run('getent', ['passwd', PASST_USER]);
    const [, , uid, gid] = stdout.trim().split(':');
    return { uid: Number(uid), gid: Number(gid) };
  } catch {
    return undefined;
  }
}

/** The 0700 directory of PASST_USER that confined sockets live in; an existing one is tightened. */
export async function prepareConfinedDir(id: PasstIdentity): Promise<void> {
  await mkdir(CONFINED_SOCKET_DIR, { recursive: true, mode: 0o700 });
  const st = await lstat(CONFINED_SOCKET_DIR);
  if (!st.isDirectory()) throw new Error(`${CONFINED_SOCKET_DIR} exists and is not a directory`);
  await chown(CONFINED_SOCKET_DIR, id.uid, id.gid);
  await chmod(CONFINED_SOCKET_DIR, 0o700);
}

/** Installs (or replaces, atomically) the fleet's table for PASST_USER's uid. */
export async function applyPasstFirewall(fleetKey: string, id: PasstIdentity): Promise<void> {
  const resolvers = resolvConfServers(await readFile('/etc/resolv.conf', 'utf8').catch(() => ''));
  const script = passtFirewallScript({ table: firewallTableName(fleetKey), uid: id.uid, resolvers });
  await nft(['-f', '-'], script);
}

/** Removes the fleet's table; one that is not there (never made, or removed by hand) is fine. */
export async function removePasstFirewall(fleetKey: string): Promise<void> {
  try {
    await nft(['delete', 'table', 'inet', firewallTableName(fleetKey)]);
  } catch (err) {
    const msg = (err as Error).message;
    // No nft at all: then no table was ever made by this fleet on this host.
    if (/No such file or directory|ENOENT/.test(msg)) return;
    throw err;
  }
}

function nft(args: string[], stdin?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = execFile('nft', args, (err, _stdout, stderr) => {
      if (!err) return resolve();
      const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'ENOENT' : stderr.trim() || err.message;
      reject(
        new Error(
          `nft ${args.join(' ')}: ${why === 'ENOENT' ? 'nft not found (ENOENT): install the nftables package, or set networkFirewall: off in fleet.yaml' : why}`,
        ),
      );
    });
    // nft answers before reading a script it rejects: its exit status tells, not the broken pipe.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(stdin ?? '');
  });
}
