import type { Command } from 'commander';

/**
 * Examples for commands whose own file does not carry any, shown at the end of their --help (the
 * README test checks every command's examples against its options).
 */
const EXAMPLES: Record<string, string[]> = {
  validate: ['fleet validate', "fleet --json validate | jq '.diagnostics[]'"],
  allocate: ['fleet allocate', 'fleet --json allocate | jq .ledger'],
  xml: ['fleet xml drago', 'fleet xml drago --network open | virt-xml-validate /dev/stdin domain'],
  down: ['fleet down', 'fleet down drago luce'],
  destroy: ['fleet destroy carla --dry-run', 'fleet destroy carla --purge --yes'],
  spice: ['fleet spice drago', 'fleet spice drago --print', 'fleet spice drago --vv drago.vv'],
  console: ['fleet console drago'],
  add: [
    'fleet add carla --memory 4GiB --vcpus 2 --share-cores --git-email carla@example.org',
    'fleet up carla',
  ],
  remove: ['fleet remove carla', 'fleet remove carla --purge --yes'],
  import: ['fleet import carla --dry-run', 'fleet import carla'],
  keys: ['fleet keys drago', 'fleet --json keys drago | jq -r .publicKey'],
  provision: [
    'fleet provision drago',
    'fleet provision drago --from hostkey',
    'fleet provision drago --rekey --yes',
  ],
  rebuild: ['fleet rebuild', 'fleet rebuild drago luce -c 2', 'fleet rebuild --build-on host'],
  'secrets list': [
    'fleet secrets list',
    'fleet --json secrets list | jq -r \'.secrets[] | select(.state != "ok") | .file\'',
  ],
  'secrets add': [
    'fleet secrets add db-password --agents drago,luce',
    'printf %s "$TOKEN" | fleet secrets add api-token --agents drago',
  ],
  'secrets edit': [
    'fleet secrets edit db-password',
    'fleet secrets edit secrets/db-password.age -i ~/.ssh/admin_ed25519',
  ],
  'secrets rekey': ['fleet secrets rekey', 'fleet secrets rekey --agent drago'],
};

/** Adds the examples above to the registered commands' help. */
export function addHelpExamples(program: Command): void {
  const walk = (command: Command, path: string[]) => {
    for (const sub of command.commands) {
      const name = [...path, sub.name()];
      const lines = EXAMPLES[name.join(' ')];
      if (lines) sub.addHelpText('after', `\nExamples:\n${lines.map((l) => `  ${l}`).join('\n')}`);
      walk(sub, name);
    }
  };
  walk(program, []);
}
