# The agent's own SSH identity (seed: "SSH keypair, auto-generated on first boot"): made once, as
# the agent's user, and never replaced; git signs with it (hosts/common/home.nix) and
# `fleet keys <name>` shows its public half so a person can add it to GitHub.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.agentfleet.agent;
  home = config.users.users.${cfg.user}.home;
in
{
  config = lib.mkIf cfg.sshKey {
    systemd.services.agentfleet-user-ssh-key = {
      description = "Generate ${cfg.user}'s SSH key";
      wantedBy = [ "multi-user.target" ];
      unitConfig.ConditionPathExists = "!${home}/.ssh/id_ed25519";
      path = [ pkgs.openssh ];
      serviceConfig = {
        Type = "oneshot";
        User = cfg.user;
        UMask = "0077";
      };
      script = ''
        mkdir -p ${home}/.ssh
        ssh-keygen -q -t ed25519 -N "" -C "${cfg.user}@agent-${cfg.name}" -f ${home}/.ssh/id_ed25519
      '';
    };
  };
}
