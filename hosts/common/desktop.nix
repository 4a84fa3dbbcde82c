# Optional GNOME on the SPICE display, logged in as the agent's user so GUI automation finds a
# session without anyone typing a password. Never into a wheel user: a display anyone with the
# SPICE port can drive must not be a root shell away.
{ config, lib, ... }:
let
  cfg = config.agentfleet.agent;
  autoLogin = config.services.displayManager.autoLogin;
  autoLoginGroups =
    if autoLogin.user == null then [ ] else config.users.users.${autoLogin.user}.extraGroups or [ ];
in
{
  config = lib.mkIf cfg.desktop {
    services.displayManager.gdm.enable = true;
    services.desktopManager.gnome.enable = true;
    # Nobody watches the greeter of a VM; suspending it would stall the agent.
    services.displayManager.gdm.autoSuspend = false;
    services.displayManager.autoLogin = {
      enable = !cfg.sudo;
      user = cfg.user;
    };
    # GNOME's auto-login races the getty on tty1 (NixOS wiki, GNOME: automatic login).
    systemd.services."getty@tty1".enable = cfg.sudo;
    systemd.services."autovt@tty1".enable = cfg.sudo;

    assertions = [
      {
        assertion = !(autoLogin.enable && lib.elem "wheel" autoLoginGroups);
        message = "agent-${cfg.name}: GNOME logs ${autoLogin.user} in automatically, and that user is in wheel";
      }
    ];

    # Secrets of GUI programs (and git/ssh through its agent) live in the login keyring, as in the seed.
    services.gnome.gnome-keyring.enable = true;

    # The session should open on the desktop, not on a first-run wizard.
    services.gnome.gnome-initial-setup.enable = false;
    # The agent user has no password, so a locked screen could never be unlocked, and a
    # suspended VM stalls the agent: no blanking, no lock, no sleep.
    programs.dconf.profiles.user.databases = [
      {
        settings = {
          "org/gnome/desktop/session".idle-delay = lib.gvariant.mkUint32 0;
          "org/gnome/desktop/screensaver".lock-enabled = false;
          "org/gnome/settings-daemon/plugins/power".sleep-inactive-ac-type = "nothing";
        };
      }
    ];
  };
}
