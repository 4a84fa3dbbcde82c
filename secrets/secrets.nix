# agenix rules: the keys each secrets/<secret>.age is encrypted to. Recipients are data files, so
# recording a key never edits Nix:
#   - every admin key (admins/*.pub) is a recipient of every secret;
#   - an agent's SSH host key (hosts/<agent>.pub, written by `fleet` during provisioning) is a
#     recipient of exactly the secrets hosts/agents.json lists for that agent. An agent whose host
#     key is not recorded yet is simply not a recipient yet.
# The secrets are those hosts/agents.json names plus any *.age file already here (admins only,
# until an agent lists it), so every file present can be re-encrypted.
let
  keys = import ../hosts/keys.nix;
  agents = (builtins.fromJSON (builtins.readFile ../hosts/agents.json)).agents;
  adminKeys = builtins.concatLists (builtins.attrValues (keys.readKeyDir ./admins));
  hostKeys = keys.readKeyDir ./hosts;

  unique = builtins.foldl' (kept: x: if builtins.elem x kept then kept else kept ++ [ x ]) [ ];

  files = builtins.readDir ./.;
  ageStem = name: builtins.match "(.+)\\.age" name;
  presentSecrets = map (name: builtins.head (ageStem name)) (
    builtins.filter (name: files.${name} != "directory" && ageStem name != null) (builtins.attrNames files)
  );
  listedSecrets = builtins.concatMap (agent: agent.secrets) (builtins.attrValues agents);

  # attrNames is sorted, so the recipients' order is stable: admins, then agents by name.
  agentRecipients =
    secret:
    builtins.concatMap (
      name: if builtins.elem secret agents.${name}.secrets then hostKeys.${name} or [ ] else [ ]
    ) (builtins.attrNames agents);
in
builtins.listToAttrs (
  map (secret: {
    name = "${secret}.age";
    value.publicKeys = unique (adminKeys ++ agentRecipients secret);
  }) (unique (listedSecrets ++ presentSecrets))
)
