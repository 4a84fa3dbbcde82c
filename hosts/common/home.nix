# The agent user's home via home-manager: git identity, and himalaya on the agent's mail account.
{ config, lib, ... }:
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

    programs.git = {
      enable = true;
      settings.user = {
        inherit (cfg.git) name email;
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
