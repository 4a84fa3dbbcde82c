# The generic base image every agent's disk starts from (the seeds' hosts/agent-base): it boots,
# takes a host key fleet handed over, lets the admins in over SSH as the admin login and has flakes
# on, so fleet can run `nixos-rebuild switch --flake <flake>#agent-<name>` inside it. It knows no
# agent: the agent's user comes with that rebuild, so adding an agent never rebuilds this image.
{
  imports = [
    ../common/machine.nix
    ../common/access.nix
    ./qcow.nix
  ];

  networking.hostName = "agent-base";
}
