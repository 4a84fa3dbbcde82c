# agenix on an agent: decrypt with the SSH host key (wherever access.nix puts it) the secrets
# hosts/agents.nix declared usable.
{ config, lib, ... }:
let
  cfg = config.agentfleet.agent;
  tailscaleSecret = if cfg.tailscale != null then cfg.tailscale.authKeySecret else null;
in
{
  age.identityPaths = map (key: key.path) config.services.openssh.hostKeys;

  # The agent's secrets belong to its user, except the tailnet auth key, which only tailscaled
  # (root) reads.
  age.secrets = lib.mapAttrs (name: file: {
    inherit file;
    owner = if name == tailscaleSecret then "root" else cfg.user;
    mode = "0400";
  }) cfg.secretFiles;

  warnings = lib.optional (!cfg.hostKeyRecorded) (
    "agent-${cfg.name}: no host key in secrets/hosts/${cfg.name}.pub yet, so no secrets are installed; "
    + "fleet records the key, re-encrypts the secrets and rebuilds"
  );
}
