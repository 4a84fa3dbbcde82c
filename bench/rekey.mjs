// Rekey 200 secrets to 5 recipients each: fleet's in-process rekey versus the agenix way (one
// `age -d` and one `age -e` process per file), side by side on identical copies in one run. A third
// column adds what agenix.sh also does per file: two nix-instantiate calls (publicKeys, armor).
// Usage: npx tsc -b packages/secrets && node bench/rekey.mjs [files=200] [rounds=5] [parent dir=os.tmpdir()]
// A/B: REKEY_BASELINE=/path/to/another/build/of/packages/secrets/dist/index.js adds that build's
// rekey() as a column, timed in the same rounds (and leaves out the slow agenix.sh column).
// (the parent dir matters: on the team machine, /tmp holds ~1400 leftover directories and creating a
// file anywhere under it costs 0.15-0.4 ms instead of ~0.02 ms; both sides create one per secret)
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { readIdentityFile, readRules, rekey } from '../packages/secrets/dist/index.js';

const baseline = process.env.REKEY_BASELINE ? await import(process.env.REKEY_BASELINE) : undefined;
const files = Number(process.argv[2] ?? 200);
const rounds = Number(process.argv[3] ?? 5);
const root = mkdtempSync(join(process.argv[4] ?? tmpdir(), 'rekey-bench-'));

function sshKey(name, type) {
  const path = join(root, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', name, '-f', path]);
  return {
    identity: path,
    recipient: readFileSync(`${path}.pub`, 'utf8').trim(),
    flag: ['-R', `${path}.pub`],
  };
}
function ageKey(name) {
  const path = join(root, name);
  execFileSync('age-keygen', ['-o', path], { stdio: 'ignore' });
  const recipient = execFileSync('age-keygen', ['-y', path], { encoding: 'utf8' }).trim();
  return { identity: path, recipient, flag: ['-r', recipient] };
}

// The admin's key decrypts; the new host key (newAgent) is what triggers the rekey.
const admin = sshKey('admin', 'ed25519');
const others = [sshKey('drago', 'ed25519'), sshKey('luce', 'rsa'), ageKey('ops')];
const newAgent = sshKey('newagent', 'ed25519');
const recipients = [admin, ...others, newAgent];

const initial = join(root, 'initial');
mkdirSync(initial);
const names = Array.from({ length: files }, (_, i) => `secret-${String(i).padStart(3, '0')}.age`);
for (const name of names) {
  const input = Buffer.from(`password for ${name}: ${'x'.repeat(40)}\n`);
  const out = spawnSync('age', ['-e', ...[admin, ...others].flatMap((k) => k.flag)], { input });
  writeFileSync(join(initial, name), out.stdout);
}
const keyList = recipients.map((k) => `"${k.recipient}"`).join(' ');
writeFileSync(
  join(initial, 'secrets.nix'),
  `let keys = [ ${keyList} ]; in {\n${names.map((n) => `  "${n}".publicKeys = keys;`).join('\n')}\n}\n`,
);

function freshCopy(label) {
  const dir = join(root, `${label}-${Math.random().toString(36).slice(2)}`);
  cpSync(initial, dir, { recursive: true });
  return dir;
}

// What `agenix -r` does per file, minus its two nix-instantiate calls per file.
function agenixWay(dir, withNix = false) {
  const encryptArgs = recipients.flatMap((k) => k.flag);
  const rules = join(dir, 'secrets.nix');
  for (const name of names) {
    if (withNix) {
      for (const expr of [
        `(import ${rules})."${name}".publicKeys`,
        `(import ${rules})."${name}".armor or false`,
      ]) {
        const r = spawnSync('nix-instantiate', ['--eval', '--strict', '--json', '-E', expr]);
        if (r.status !== 0) throw new Error(r.stderr.toString());
      }
    }
    const file = join(dir, name);
    const clear = spawnSync('age', ['-d', '-i', admin.identity, file]);
    if (clear.status !== 0) throw new Error(clear.stderr.toString());
    const again = spawnSync('age', ['-e', ...encryptArgs, '-o', `${file}.new`], { input: clear.stdout });
    if (again.status !== 0) throw new Error(again.stderr.toString());
    renameSync(`${file}.new`, file);
  }
}

async function fleetWay(dir, lib = { readIdentityFile, readRules, rekey }) {
  const summary = await lib.rekey({
    secretsDir: dir,
    rules: await lib.readRules(join(dir, 'secrets.nix')),
    identities: await lib.readIdentityFile(admin.identity),
  });
  if (summary.rekeyed.length !== files) throw new Error(`rekeyed ${summary.rekeyed.length}/${files}`);
}

async function time(fn, label) {
  const dir = freshCopy(label);
  const start = performance.now();
  await fn(dir);
  const ms = performance.now() - start;
  // Spot-check the result with the real CLI: the new agent can read the last file.
  const check = spawnSync('age', ['-d', '-i', newAgent.identity, join(dir, names.at(-1))]);
  if (check.status !== 0) throw new Error(`${label}: new agent cannot decrypt`);
  rmSync(dir, { recursive: true });
  return ms;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = { agenix: [], agenixNix: [], fleet: [], baseline: [] };
for (let i = 0; i < rounds; i++) {
  results.agenix.push(await time(agenixWay, 'agenix'));
  if (baseline) results.baseline.push(await time((dir) => fleetWay(dir, baseline), 'baseline'));
  else results.agenixNix.push(await time((dir) => agenixWay(dir, true), 'agenix-nix'));
  results.fleet.push(await time(fleetWay, 'fleet'));
}
rmSync(root, { recursive: true });

const a = median(results.agenix);
const an = baseline ? 0 : median(results.agenixNix);
const f = median(results.fleet);
const row = (label, xs) =>
  `${label}: median ${median(xs).toFixed(0)} ms  [${xs.map((x) => x.toFixed(0)).join(', ')}]`;
console.log(
  `rekey ${files} secrets x ${recipients.length} recipients (ssh-ed25519 x3, ssh-rsa 2048, X25519), ${rounds} rounds`,
);
console.log(row('agenix way (age -d + age -e per file)     ', results.agenix));
if (baseline) console.log(row('baseline rekey (REKEY_BASELINE)           ', results.baseline));
else console.log(row('agenix.sh (+ 2 nix-instantiate per file)  ', results.agenixNix));
console.log(row('fleet rekey (in process, incl. nix eval)  ', results.fleet));
console.log(
  baseline
    ? `speedup vs age -d + age -e per file: ${(a / f).toFixed(1)}x; this build / baseline: ${(f / median(results.baseline)).toFixed(2)}x`
    : `speedup vs age -d + age -e per file: ${(a / f).toFixed(1)}x; vs agenix.sh per-file work: ${(an / f).toFixed(1)}x`,
);
