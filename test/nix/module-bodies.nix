# Calls the bodies of the agent module's parts (hosts/common/*.nix) with a stand-in `config` and
# ./stand-in-lib.nix, and returns what each sets, so their own logic (secret owners, tailscale
# flags, himalaya, auto-login, host name) is checked offline. The NixOS module system itself
# (option types, merging) needs nixpkgs and is not evaluated here.
{ repo, agentFile }:
let
  lib = import ./stand-in-lib.nix;
  agent = builtins.fromJSON (builtins.readFile agentFile);
  config = {
    agentfleet.agent = agent;
    services.openssh.hostKeys = [
      {
        type = "ed25519";
        path = "/var/ssh/ssh_host_ed25519_key";
      }
    ];
    # agenix's defaults for the secrets the agent declares.
    age.secretsDir = "/run/agenix";
    age.secrets = builtins.mapAttrs (name: _: { path = "/run/agenix/${name}"; }) agent.secretFiles;
    system.stateVersion = "26.05";
  };
  call = file: import (repo + "/hosts/common/${file}") { inherit config lib; };
  # The module system never looks inside a false mkIf; neither may the JSON conversion.
  whenSet = marker: if marker.condition then marker else removeAttrs marker [ "content" ];
in
{
  agent = removeAttrs (call "default.nix") [ "imports" ];
  secrets = call "secrets.nix";
  tailscale = whenSet (call "tailscale.nix").config;
  desktop = whenSet (call "desktop.nix").config;
  home = call "home.nix";
}
