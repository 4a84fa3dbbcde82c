# The agent's own Unix user, made by its configuration (phase 1), not by the base image. Not an
# admin: it is in wheel (passwordless sudo, so root in its VM: the host key, every secret) only
# when its YAML says `sudo: true`. The admins' keys let a person log in as it.
{ config, lib, ... }:
let
  cfg = config.agentfleet.agent;
in
{
  users.users.${cfg.user} = {
    isNormalUser = true;
    description = "agent ${cfg.name}";
    extraGroups = [ "networkmanager" ] ++ lib.optional cfg.sudo "wheel";
    openssh.authorizedKeys.keys = config.agentfleet.adminKeys;
  };

  assertions = [
    {
      assertion = cfg.user != config.agentfleet.adminUser && cfg.user != "root";
      message = "agent-${cfg.name}: its user ${cfg.user} may be neither root nor the admin login (agentfleet.adminUser); give the agent another `user:` in its YAML";
    }
  ];
}
