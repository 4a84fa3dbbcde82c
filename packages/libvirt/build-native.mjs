// Compiles the addon with node-gyp (npm's bundled copy when run from an npm script). When the
// running Node ships its headers (/usr/include/node for Debian/NodeSource packages), node-gyp
// is pointed at them, so the build needs no download from nodejs.org (CI may be offline).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

const prefix = dirname(dirname(process.execPath));
const args = ['rebuild'];
if (!process.env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'node_api.h'))) {
  args.push(`--nodedir=${prefix}`);
}
const gyp = process.env.npm_config_node_gyp;
const result = gyp
  ? spawnSync(process.execPath, [gyp, ...args], { stdio: 'inherit' })
  : spawnSync('node-gyp', args, { stdio: 'inherit' });
if (result.error) {
  console.error(`cannot run node-gyp: ${result.error.message} (run this through npm: npm run build:native)`);
}
process.exit(result.status ?? 1);
