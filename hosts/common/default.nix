# nixosModules.agent: one agent VM, configured through the agentfleet.agent options. flake.nix
# adds the home-manager and agenix NixOS modules this one sets options of.
{ config, ... }:
let
  cfg = config.agentfleet.agent;
in
{
  imports = [
    ./machine.nix
    ./access.nix
    ./options.nix
    ./users.nix
    ./user-key.nix
    ./secrets.nix
    ./desktop.nix
    ./tailscale.nix
    ./home.nix
    ./shares.nix
  ];

  networking.hostName = "agent-${cfg.name}";
}
