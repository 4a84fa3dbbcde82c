# Public keys kept as data files (secrets/admins/*.pub, secrets/hosts/<agent>.pub), read by
# hosts/agents.nix and secrets/secrets.nix. Pure builtins only: agenix evaluates secrets.nix without
# nixpkgs. A file holds one key per line; blank lines and `#` comments are skipped, and a key's
# trailing comment is dropped, since recipients are "<type> <base64>" or an age1 key. Only the
# kinds age encrypts to are accepted (ssh-ed25519, ssh-rsa, age1...): every key here ends up a
# recipient.
let
  linesOf = text: builtins.filter builtins.isString (builtins.split "\n" text);

  keyPattern = "[[:space:]]*((ssh-ed25519|ssh-rsa)[[:space:]]+[A-Za-z0-9+/]+=*|age1[a-z0-9]+)([[:space:]].*)?";
  skipPattern = "[[:space:]]*(#.*)?";

  # A line that is neither a key nor blank/comment is an error: silently skipping it would leave a
  # machine or admin out of a secret's recipients with nothing said.
  keyOfLine =
    file: line:
    let
      key = builtins.match keyPattern line;
    in
    if builtins.match skipPattern line != null then
      [ ]
    else if key != null then
      [ (builtins.head key) ]
    else
      throw "${toString file}: not an ssh-ed25519, ssh-rsa or age public key: ${line}";

  readKeyFile = file: builtins.concatMap (keyOfLine file) (linesOf (builtins.readFile file));

  # { <stem> = [ keys ]; } for every <stem>.pub in dir; {} when dir does not exist.
  readKeyDir =
    dir:
    let
      entries = if builtins.pathExists dir then builtins.readDir dir else { };
      stemOf = name: builtins.match "(.+)\\.pub" name;
      keyFiles = builtins.filter (name: entries.${name} != "directory" && stemOf name != null) (
        builtins.attrNames entries
      );
    in
    builtins.listToAttrs (
      map (name: {
        name = builtins.head (stemOf name);
        value = readKeyFile (dir + "/${name}");
      }) keyFiles
    );
in
{
  inherit readKeyFile readKeyDir;
}
