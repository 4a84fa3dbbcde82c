# The generic base image every agent's disk starts from (the seeds' hosts/agent-base): it boots,
# lets the admins in over SSH as any agent user (flake.nix sets agentfleet.users from
# hosts/agents.json) and has flakes on, so fleet can run
# `nixos-rebuild switch --flake <flake>#agent-<name>` inside it.
{
  imports = [
    ../common/machine.nix
    ../common/access.nix
    ./qcow.nix
  ];

  networking.hostName = "agent-base";
}
