import { readFile } from 'node:fs/promises';
import { isLocalUri, parsePublicKeyLine, publicKeyLine, type Readiness } from '@agentfleet/core';
import { waitForSsh } from '@agentfleet/ssh';
import type { HostAccess } from './host-access.js';

// The SSH adapter for the engine's Readiness interface (connections.ts holds the libvirt one).

/** Readiness through ssh2: listening -> banner -> login, the host key pinned or recorded at first contact. */
export function sshReadiness(hosts: HostAccess): Readiness {
  return {
    async wait(t, onStage) {
      const privateKey = await readFile(t.identityFile, 'utf8');
      // A remote agent's forward listens on its host's loopback: every probe and the login go through that host.
      const remote = !isLocalUri(t.uri);
      const budget = t.timeoutSeconds * 1000;
      onStage('listening');
      const { shell } = await waitForSsh(
        {
          who: t.agent,
          host: t.host,
          port: t.port,
          user: t.user,
          privateKey,
          hostKey:
            t.pinnedHostKey === undefined
              ? // Recorded by the engine (state.json, then known_hosts) once the login proves it.
                { kind: 'first-contact', record: () => {} }
              : { kind: 'pinned', key: parsePublicKeyLine(t.pinnedHostKey), source: 'state.json' },
        },
        {
          ...(remote && { dial: (host, port, timeoutMs) => hosts.dial(t.uri, host, port, timeoutMs) }),
          // A banner probe is one TCP connect to QEMU's forwarder: cheap enough to retry every
          // 100 ms, so a guest is noticed within a tenth of a second of its sshd starting.
          stages: { listening: { timeoutMs: budget }, banner: { timeoutMs: budget, maxDelayMs: 100 } },
          onProgress: (p) => {
            if (p.status !== 'passed') return;
            if (p.stage === 'listening') onStage('banner');
            if (p.stage === 'banner') onStage('login');
          },
        },
      );
      try {
        return { hostKey: publicKeyLine(shell.hostKey) };
      } finally {
        await shell.close();
      }
    },
  };
}
