# The agent user's home via home-manager (the seed's home-manager/common/agents/base.nix): the
# terminal tools, Bitwarden CLI, shell aliases, git identity signed with the agent's own SSH key
# (hosts/common/user-key.nix), and himalaya on the agent's mail account.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.agentfleet.agent;
  mail = cfg.mail;
  withMail = mail != null && mail.passwordSecret != null;
in
{
  home-manager.useGlobalPkgs = true;
  home-manager.useUserPackages = true;

  home-manager.users.${cfg.user} = {
    home.stateVersion = config.system.stateVersion;

    home.packages = [
      pkgs.eza
      pkgs.htop
      pkgs.jq
      pkgs.fzf
      pkgs.ripgrep
      pkgs.fd
      pkgs.bat
      pkgs.tree
      pkgs.bitwarden-cli
    ];

    programs.bash.enable = true;
    home.shellAliases = {
      ls = "eza";
      ll = "eza -l";
      la = "eza -la";
      lt = "eza --tree";
      gs = "git status";
      gd = "git diff";
    }
    // cfg.shellAliases;

    programs.git = {
      enable = true;
      settings.user = {
        inherit (cfg.git) name email;
      };
      signing = lib.mkIf (cfg.sshKey && cfg.gitSigning) {
        format = "ssh";
        key = "${config.users.users.${cfg.user}.home}/.ssh/id_ed25519.pub";
        signByDefault = true;
      };
    };

    programs.himalaya.enable = withMail;
    accounts.email.accounts = lib.optionalAttrs withMail {
      ${cfg.user} = {
        primary = true;
        inherit (mail) address;
        realName = cfg.git.name;
        userName = mail.address;
        # Where agenix installs the secret (age.secrets.<name>.path's default), named here
        # rather than read from age.secrets because the secret is only declared from the second
        # provisioning phase on.
        passwordCommand = [
          "cat"
          "${config.age.secretsDir}/${mail.passwordSecret}"
        ];
        imap = {
          inherit (mail.imap) host port;
        };
        smtp = {
          inherit (mail.smtp) host port;
        };
        himalaya.enable = true;
      };
    };
  };
}
