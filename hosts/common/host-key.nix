# The host-key hand-over: with `fleet up --pregenerate-host-keys`, fleet makes the VM's SSH host key on
# the host, pins it and passes it in the fw_cfg entry opt/agentfleet/ssh_host_ed25519_key. This
# oneshot installs it before sshd would generate one, and only when the VM has no key yet; it then
# persists in /var/ssh, so later boots need no fw_cfg entry (fleet drops it after first contact). The
# same script runs in the test image's init (scripts/make-test-image.sh), so the end-to-end test runs it.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  hostKey = (lib.head config.services.openssh.hostKeys).path;
in
{
  # /sys/firmware/qemu_fw_cfg exists only with this driver (a module in NixOS' kernel).
  boot.kernelModules = [ "qemu_fw_cfg" ];

  systemd.services.agentfleet-fwcfg-hostkey = {
    description = "Install the SSH host key fleet handed over through fw_cfg";
    # Wanted, not required, by sshd: a corrupt entry must not keep sshd from starting with a key
    # of its own.
    wantedBy = [
      "multi-user.target"
      "sshd.service"
    ];
    before = [
      "sshd-keygen.service"
      "sshd.service"
    ];
    after = [ "systemd-modules-load.service" ];
    path = [
      pkgs.coreutils
      pkgs.openssh
    ];
    serviceConfig = {
      Type = "oneshot";
      RemainAfterExit = true;
      ExecStart = "${pkgs.runtimeShell} ${../scripts/install-fwcfg-hostkey.sh} ${lib.escapeShellArg hostKey}";
      # On disk before sshd presents it: fleet removes its own copy (and the fw_cfg entry) once the VM has
      # presented the key, so from then on this copy is the only one and must survive a crash right after.
      ExecStartPost = "${pkgs.coreutils}/bin/sync";
    };
  };
}
