# config.system.build.qcow2: the base image, built by nixpkgs' make-disk-image.
{
  config,
  lib,
  pkgs,
  modulesPath,
  ...
}:
{
  system.build.qcow2 = import (modulesPath + "/../lib/make-disk-image.nix") {
    inherit config lib pkgs;
    format = "qcow2";
    # MBR with GRUB: the BIOS boot hosts/common/machine.nix configures.
    partitionTableType = "legacy";
    # MiB, as the seeds' 20 GB image; qcow2 is sparse, so the file holds only what is written.
    diskSize = 20480;
    # Agents are configured from the flake, never from channels.
    copyChannel = false;
  };
}
