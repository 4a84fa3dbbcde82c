# Who gets in: OpenSSH with its host key under /var/ssh (as the seeds do; fleet reads the public
# half there during provisioning and agenix decrypts with the private half), the admins' keys
# authorized for the agent users, passwordless sudo for wheel.
{ config, lib, ... }:
let
  cfg = config.agentfleet;
in
{
  imports = [ ./host-key.nix ];

  options.agentfleet = {
    adminKeys = lib.mkOption {
      type = lib.types.listOf lib.types.str;
      default = [ ];
      description = "SSH public keys (secrets/admins/*.pub) authorized for every user in agentfleet.users.";
    };
    users = lib.mkOption {
      type = lib.types.listOf lib.types.str;
      default = [ ];
      description = "Unix users created as admins: in wheel, logged into with agentfleet.adminKeys.";
    };
  };

  config = {
    services.openssh = {
      enable = true;
      hostKeys = [
        {
          type = "ed25519";
          path = "/var/ssh/ssh_host_ed25519_key";
        }
      ];
      settings = {
        PasswordAuthentication = false;
        KbdInteractiveAuthentication = false;
        PermitRootLogin = "no";
      };
    };

    users.users = lib.genAttrs cfg.users (_: {
      isNormalUser = true;
      extraGroups = [
        "wheel"
        "networkmanager"
      ];
      openssh.authorizedKeys.keys = cfg.adminKeys;
    });

    # fleet provisions non-interactively over SSH.
    security.sudo.wheelNeedsPassword = false;

    # A warning, not an assertion: the repository ships without admin keys (each fleet adds its
    # own), and `nix flake check` must still evaluate it.
    warnings = lib.optional (cfg.users != [ ] && cfg.adminKeys == [ ]) (
      "agentfleet.adminKeys is empty, so nobody can log in over SSH: put an admin's public key in "
      + "secrets/admins/<admin>.pub"
    );
  };
}
