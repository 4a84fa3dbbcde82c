// `fleet cp` arguments: exactly one side is `agent:path`, as with scp. Pure.

export type CopyEndpoint = { kind: 'local'; path: string } | { kind: 'agent'; agent: string; path: string };

export interface CopyRequest {
  direction: 'upload' | 'download';
  agent: string;
  local: string;
  remote: string;
}

/** `drago:/etc/x` is on an agent; `./a:b`, `/x:y` and anything without a name before ':' are local. */
export function parseCopyEndpoint(arg: string): CopyEndpoint {
  const m = /^([a-z][a-z0-9-]*):(.*)$/.exec(arg);
  if (!m || arg.startsWith('./') || arg.startsWith('/')) return { kind: 'local', path: arg };
  return { kind: 'agent', agent: m[1] as string, path: m[2] === '' ? '.' : (m[2] as string) };
}

/** The copy `fleet cp SRC DST` asks for, or the problem with it (a usage error). */
export function copyRequest(src: string, dst: string): CopyRequest | { problem: string } {
  const from = parseCopyEndpoint(src);
  const to = parseCopyEndpoint(dst);
  if (from.kind === 'agent' && to.kind === 'agent')
    return { problem: 'copying between two agents is not supported: copy to the host first' };
  if (from.kind === 'local' && to.kind === 'local')
    return { problem: `neither '${src}' nor '${dst}' names an agent: write one side as AGENT:PATH` };
  return from.kind === 'agent'
    ? { direction: 'download', agent: from.agent, remote: from.path, local: (to as { path: string }).path }
    : {
        direction: 'upload',
        agent: (to as { agent: string }).agent,
        remote: (to as { path: string }).path,
        local: from.path,
      };
}
