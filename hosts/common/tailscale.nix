# Tailscale with the agent's ACL tags. The node joins by itself once its auth key secret is
# decryptable (the second provisioning phase); NixOS passes extraUpFlags (tags, login server) only
# on that unattended join. Until then `sudo tailscale up --advertise-tags=...` works by hand.
{ config, lib, ... }:
let
  cfg = config.agentfleet.agent.tailscale;
  authKeyReady =
    cfg.authKeySecret != null && config.agentfleet.agent.secretFiles ? ${cfg.authKeySecret};
in
{
  config = lib.mkIf (cfg != null) {
    services.tailscale = {
      enable = true;
      authKeyFile = if authKeyReady then config.age.secrets.${cfg.authKeySecret}.path else null;
      extraUpFlags =
        lib.optional (cfg.tags != [ ]) "--advertise-tags=${lib.concatStringsSep "," cfg.tags}"
        ++ lib.optional (cfg.loginServer != null) "--login-server=${cfg.loginServer}";
    };
  };
}
