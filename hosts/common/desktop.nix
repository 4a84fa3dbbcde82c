# Optional GNOME on the SPICE display, logged in as the agent's user so GUI automation finds a
# session without anyone typing a password.
{ config, lib, ... }:
let
  cfg = config.agentfleet.agent;
in
{
  config = lib.mkIf cfg.desktop {
    services.displayManager.gdm.enable = true;
    services.desktopManager.gnome.enable = true;
    # Nobody watches the greeter of a VM; suspending it would stall the agent.
    services.displayManager.gdm.autoSuspend = false;
    services.displayManager.autoLogin = {
      enable = true;
      user = cfg.user;
    };
    # GNOME's auto-login races the getty on tty1 (NixOS wiki, GNOME: automatic login).
    systemd.services."getty@tty1".enable = false;
    systemd.services."autovt@tty1".enable = false;
  };
}
