# The agentfleet.agent options: one agent's identity. flake.nix sets them from hosts/agents.json
# through hosts/agents.nix; a hosts/agent-<name>/ directory may add to them by hand.
{ lib, ... }:
let
  inherit (lib) mkOption types;

  mailModule = types.submodule (
    { config, ... }:
    let
      domain = lib.last (lib.splitString "@" config.address);
    in
    {
      options = {
        address = mkOption {
          type = types.strMatching "[^@]+@[^@]+";
          description = "The agent's mail address, also its IMAP/SMTP login.";
        };
        passwordSecret = mkOption {
          type = types.nullOr types.str;
          default = null;
          description = "Name of the agenix secret (secrets/<name>.age) holding the mail password; without it himalaya is not set up.";
        };
        imap.host = mkOption {
          type = types.str;
          default = "mail.${domain}";
          defaultText = lib.literalExpression ''"mail.''${domain of address}"'';
          description = "IMAP server (implicit TLS).";
        };
        imap.port = mkOption {
          type = types.port;
          default = 993;
          description = "IMAP port.";
        };
        smtp.host = mkOption {
          type = types.str;
          default = "mail.${domain}";
          defaultText = lib.literalExpression ''"mail.''${domain of address}"'';
          description = "SMTP submission server (implicit TLS).";
        };
        smtp.port = mkOption {
          type = types.port;
          default = 465;
          description = "SMTP submission port.";
        };
      };
    }
  );

  shareModule = types.submodule {
    options = {
      tag = mkOption {
        type = types.strMatching "[A-Za-z0-9][A-Za-z0-9_.-]{0,35}";
        description = "virtiofs tag of the share, as fleet names it in the domain.";
      };
      target = mkOption {
        type = types.strMatching "/[A-Za-z0-9._/-]*";
        description = "Mount point in the guest.";
      };
      readOnly = mkOption {
        type = types.bool;
        default = true;
        description = "Mount read-only (the host enforces it too: virtiofsd serves a read-only bind mount).";
      };
    };
  };

  tailscaleModule = types.submodule {
    options = {
      tags = mkOption {
        type = types.listOf types.str;
        default = [ ];
        example = [ "tag:agent" ];
        description = "ACL tags the node advertises.";
      };
      authKeySecret = mkOption {
        type = types.nullOr types.str;
        default = null;
        description = "Name of the agenix secret holding a tailnet auth key; with it the VM joins unattended.";
      };
      loginServer = mkOption {
        type = types.nullOr types.str;
        default = null;
        example = "https://headscale.example.org";
        description = "Control server (e.g. headscale); null means Tailscale's own.";
      };
    };
  };
in
{
  options.agentfleet.agent = {
    name = mkOption {
      type = types.strMatching "[a-z][a-z0-9-]*";
      description = "Agent name; the VM's host name and libvirt domain are agent-<name>.";
    };
    user = mkOption {
      type = types.str;
      description = "The agent's Unix user.";
    };
    sudo = mkOption {
      type = types.bool;
      default = false;
      description = "Whether the agent's user is in wheel (passwordless sudo: root in its VM, the SSH host key and every secret included). Provisioning never needs it: fleet logs in as agentfleet.adminUser.";
    };
    git = {
      name = mkOption {
        type = types.str;
        description = "Git author name.";
      };
      email = mkOption {
        type = types.str;
        description = "Git author email.";
      };
    };
    desktop = mkOption {
      type = types.bool;
      default = false;
      description = "GNOME on the SPICE display, logged in as the agent's user (unless it has sudo: no auto-login into wheel).";
    };
    mail = mkOption {
      type = types.nullOr mailModule;
      default = null;
      description = "Mail account, read and sent with himalaya.";
    };
    tailscale = mkOption {
      type = types.nullOr tailscaleModule;
      default = null;
      description = "Tailnet membership; null leaves tailscale off.";
    };
    shares = mkOption {
      type = types.listOf shareModule;
      default = [ ];
      example = [
        {
          tag = "projects";
          target = "/mnt/projects";
          readOnly = true;
        }
      ];
      description = "Host directories shared into the VM over virtiofs (agent YAML shares:), mounted at boot.";
    };
    shellAliases = mkOption {
      type = types.attrsOf types.str;
      default = { };
      example = {
        gs = "git status";
      };
      description = "Shell aliases for the agent's user, on top of the common ones (hosts/common/home.nix).";
    };
    sshKey = mkOption {
      type = types.bool;
      default = true;
      description = "Generate the agent user's own SSH key (~/.ssh/id_ed25519) on first boot; `fleet keys <name>` shows its public half (e.g. for GitHub).";
    };
    gitSigning = mkOption {
      type = types.bool;
      default = true;
      description = "Sign the agent's commits with its own SSH key (requires sshKey).";
    };
    hostKeyRecorded = mkOption {
      type = types.bool;
      default = false;
      description = "Whether secrets/hosts/<name>.pub exists, i.e. the secrets have been encrypted to this VM.";
    };
    secretFiles = mkOption {
      type = types.attrsOf types.path;
      default = { };
      description = "The agenix secrets this VM decrypts: secret name -> .age file.";
    };
  };
}
