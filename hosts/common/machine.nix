# What every agent VM is as a machine, the base image included: a libvirt/QEMU guest booting with
# BIOS from the disk make-disk-image lays out (hosts/agent-base/qcow.nix), so an agent's own
# configuration stays bootable on the disk it was cloned from.
{ lib, modulesPath, ... }:
{
  # virtio disk, net, balloon, rng and console drivers in the initrd.
  imports = [ (modulesPath + "/profiles/qemu-guest.nix") ];

  # The domain boots SeaBIOS, not OVMF: GRUB in the MBR of the virtio disk.
  boot.loader.grub = {
    enable = true;
    device = "/dev/vda";
  };
  # The disk is cloned from a small image and may be resized by fleet: the partition and the
  # root file system grow to fill it on boot.
  boot.growPartition = true;
  fileSystems."/" = {
    device = "/dev/disk/by-label/nixos";
    fsType = "ext4";
    autoResize = true;
  };
  # The domain's serial console is logged to a file on the host; fleet shows it when boot stalls.
  boot.kernelParams = [
    "console=tty0"
    "console=ttyS0,115200"
  ];

  services.qemuGuest.enable = true;
  services.spice-vdagentd.enable = true;
  networking.networkmanager.enable = true;

  # Provisioning runs `nixos-rebuild switch --flake` inside the VM.
  nix.settings.experimental-features = [
    "nix-command"
    "flakes"
  ];

  system.stateVersion = lib.mkDefault "26.05";
}
