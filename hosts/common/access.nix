# Who gets in: OpenSSH with its host key under /var/ssh (as the seeds do; fleet reads the public
# half there during provisioning and agenix decrypts with the private half), and one admin login
# (agentfleet.adminUser: wheel, passwordless sudo, the admins' keys) that fleet provisions through.
# The base image has only this login; each agent's own user comes with its configuration
# (hosts/common/users.nix), so the base image does not depend on the agent list.
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
      description = "SSH public keys (secrets/admins/*.pub) authorized for the admin login.";
    };
    adminUser = lib.mkOption {
      # Not root: PermitRootLogin stays "no".
      type = lib.types.strMatching "[a-z_][a-z0-9_-]*";
      default = "admin";
      description = "The admin login fleet provisions through (fleet.yaml ssh.user, whose default is the same): in wheel, logged into with agentfleet.adminKeys.";
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

    users.users.${cfg.adminUser} = {
      isNormalUser = true;
      description = "agentfleet admin";
      extraGroups = [
        "wheel"
        "networkmanager"
      ];
      openssh.authorizedKeys.keys = cfg.adminKeys;
    };

    assertions = [
      {
        assertion = cfg.adminUser != "root";
        message = "agentfleet.adminUser may not be root: root logs in over SSH nowhere";
      }
    ];

    # fleet provisions non-interactively over SSH.
    security.sudo.wheelNeedsPassword = false;

    # `build: host`: fleet copies systems built on its host in with `nix copy` as this login; the
    # daemon takes unsigned paths only from trusted users. No new power: the login already has
    # passwordless sudo.
    nix.settings.trusted-users = [ cfg.adminUser ];

    # A warning, not an assertion: the repository ships without admin keys (each fleet adds its
    # own), and `nix flake check` must still evaluate it.
    warnings = lib.optional (cfg.adminKeys == [ ]) (
      "agentfleet.adminKeys is empty, so nobody can log in over SSH: put an admin's public key in "
      + "secrets/admins/<admin>.pub"
    );
  };
}
