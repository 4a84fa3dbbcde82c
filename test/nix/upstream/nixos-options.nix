# Declarations of the NixOS options the project's modules (and the agenix and home-manager NixOS
# modules they import) set or read, with the types of nixpkgs 26.05's option files (nixos/modules/...,
# named beside each). nixpkgs' nixos/ tree is not on these machines (../shared/nix-sources holds its
# lib only), so this is the part of NixOS the evaluation stands on; every option is strict: a
# definition of anything not declared here fails the evaluation as an unknown option.
{ lib, pkgs, ... }:
let
  inherit (lib) mkOption types;
  opt = type: default: mkOption { inherit type default; };
  enable = opt types.bool false;
  # systemd/lib unitOption: a value or a list of them.
  unitOption = types.oneOf [
    types.bool
    types.int
    types.str
    types.path
    types.package
    (types.listOf (types.oneOf [ types.bool types.int types.str types.path types.package ]))
  ];
  # nixos/lib/systemd-unit-options.nix (the options units here use).
  serviceModule = {
    options = {
      enable = opt types.bool true;
      description = opt types.singleLineStr "";
      wantedBy = opt (types.listOf types.str) [ ];
      requiredBy = opt (types.listOf types.str) [ ];
      wants = opt (types.listOf types.str) [ ];
      requires = opt (types.listOf types.str) [ ];
      before = opt (types.listOf types.str) [ ];
      after = opt (types.listOf types.str) [ ];
      partOf = opt (types.listOf types.str) [ ];
      path = opt (types.listOf (types.either types.package types.str)) [ ];
      environment = opt (types.attrsOf (types.nullOr (types.oneOf [ types.str types.path types.package ]))) { };
      serviceConfig = opt (types.attrsOf unitOption) { };
      unitConfig = opt (types.attrsOf unitOption) { };
      script = opt types.lines "";
      preStart = opt types.lines "";
      restartIfChanged = opt types.bool true;
      stopIfChanged = opt types.bool true;
      startAt = opt (types.either types.str (types.listOf types.str)) [ ];
    };
  };
  # nixos/modules/config/users-groups.nix
  userModule =
    { name, config, ... }:
    {
      options = {
        name = opt (types.passwdEntry types.str) name;
        description = opt (types.passwdEntry types.str) "";
        uid = opt (types.nullOr types.int) null;
        isNormalUser = opt types.bool false;
        isSystemUser = opt types.bool false;
        group = opt types.str "";
        extraGroups = opt (types.listOf types.str) [ ];
        home = opt (types.passwdEntry types.path) (if config.isNormalUser then "/home/${name}" else "/var/empty");
        createHome = opt types.bool config.isNormalUser;
        shell = opt (types.nullOr (types.either types.shellPackage (types.passwdEntry types.path))) null;
        packages = opt (types.listOf types.package) [ ];
        initialPassword = opt (types.nullOr types.str) null;
        hashedPassword = opt (types.nullOr (types.passwdEntry types.str)) null;
        openssh.authorizedKeys.keys = opt (types.listOf types.singleLineStr) [ ];
      };
    };
  fileSystemModule = {
    options = {
      device = opt (types.nullOr types.nonEmptyStr) null;
      fsType = opt types.nonEmptyStr "auto";
      options = opt (types.nonEmptyListOf types.nonEmptyStr) [ "defaults" ];
      autoResize = opt types.bool false;
    };
  };
in
{
  options = {
    # nixos/modules/misc/nixpkgs.nix
    nixpkgs.hostPlatform = opt (types.either types.str types.attrs) "x86_64-linux";
    # nixos/modules/system/build.nix
    system.build = mkOption {
      type = types.submoduleWith { modules = [ { freeformType = with types; lazyAttrsOf (uniq unspecified); } ]; };
      default = { };
    };
    # nixos/modules/misc/version.nix
    system.stateVersion = opt types.str "26.05";
    # nixos/modules/system/activation/activation-script.nix (agenix adds its scripts here)
    system.activationScripts = opt (types.attrsOf (types.either types.str (types.submodule {
      options = {
        deps = opt (types.listOf types.str) [ ];
        text = opt types.lines "";
        supportsDryActivation = opt types.bool false;
      };
    }))) { };
    # nixos/modules/system/activation/activation-script.nix (home-manager's restart hook)
    system.userActivationScripts = opt (types.attrsOf (types.either types.str (types.submodule {
      options = {
        deps = opt (types.listOf types.str) [ ];
        text = opt types.lines "";
      };
    }))) { };
    # nixos/modules/config/system-path.nix
    environment.systemPackages = opt (types.listOf types.package) [ ];
    environment.pathsToLink = opt (types.listOf types.str) [ ];
    # nixos/modules/tasks/network-interfaces.nix
    networking.hostName = opt (types.strMatching "^$|^[[:alnum:]]([[:alnum:]_-]{0,61}[[:alnum:]])?$") "nixos";
    networking.networkmanager.enable = enable;
    # nixos/modules/system/boot/loader/grub/grub.nix
    boot.loader.grub.enable = opt types.bool true;
    boot.loader.grub.device = opt types.str "";
    # nixos/modules/system/boot/grow-partition.nix
    boot.growPartition = enable;
    # nixos/modules/system/boot/kernel.nix
    boot.kernelParams = opt (types.listOf (types.strMatching ''([^"[:space:]]|"[^"]*")+'')) [ ];
    boot.kernelModules = opt (types.listOf types.str) [ ];
    boot.initrd.availableKernelModules = opt (types.listOf types.str) [ ];
    boot.initrd.kernelModules = opt (types.listOf types.str) [ ];
    # nixos/modules/tasks/filesystems.nix
    fileSystems = opt (types.attrsOf (types.submodule fileSystemModule)) { };
    # nixos/modules/services/virtualisation/qemu-guest-agent.nix, spice-vdagentd.nix
    services.qemuGuest.enable = enable;
    services.spice-vdagentd.enable = enable;
    # nixos/modules/config/nix.nix (settings is a freeform submodule of Nix config values)
    nix.enable = opt types.bool true;
    nix.package = opt types.package pkgs.nix;
    nix.settings = mkOption {
      type = types.submodule {
        freeformType = types.attrsOf (types.oneOf [ types.bool types.int types.str (types.listOf types.str) ]);
        options.experimental-features = opt (types.listOf types.str) [ ];
      };
      default = { };
    };
    # nixos/modules/services/networking/ssh/sshd.nix
    services.openssh = {
      enable = enable;
      hostKeys = opt (types.listOf types.attrs) [
        { type = "rsa"; bits = 4096; path = "/etc/ssh/ssh_host_rsa_key"; }
        { type = "ed25519"; path = "/etc/ssh/ssh_host_ed25519_key"; }
      ];
      settings = mkOption {
        type = types.submodule {
          freeformType = types.attrsOf (types.nullOr (types.oneOf [ types.bool types.int types.str (types.listOf types.str) ]));
          options = {
            PasswordAuthentication = opt types.bool true;
            KbdInteractiveAuthentication = opt types.bool true;
            PermitRootLogin = opt (types.enum [ "yes" "without-password" "prohibit-password" "forced-commands-only" "no" ]) "prohibit-password";
          };
        };
        default = { };
      };
    };
    # nixos/modules/config/users-groups.nix
    users.users = opt (types.attrsOf (types.submodule userModule)) { };
    users.groups = opt (types.attrsOf (types.submodule { options.gid = opt (types.nullOr types.int) null; })) { };
    users.mutableUsers = opt types.bool true;
    # nixos/modules/security/sudo.nix
    security.sudo.wheelNeedsPassword = opt types.bool true;
    # nixos/modules/system/boot/systemd.nix
    systemd.services = opt (types.attrsOf (types.submodule serviceModule)) { };
    systemd.user.services = opt (types.attrsOf (types.submodule serviceModule)) { };
    systemd.sysusers.enable = enable;
    services.userborn.enable = enable;
    # nixos/modules/services/display-managers/{default,gdm}.nix, desktop-managers/gnome.nix
    services.displayManager.gdm.enable = enable;
    services.displayManager.gdm.autoSuspend = opt types.bool true;
    services.displayManager.autoLogin.enable = enable;
    services.displayManager.autoLogin.user = opt (types.nullOr types.str) null;
    services.desktopManager.gnome.enable = enable;
    services.gnome.gnome-initial-setup.enable = enable;
    services.gnome.gnome-keyring.enable = enable;
    # nixos/modules/programs/dconf.nix
    programs.dconf.profiles = opt (types.attrsOf (types.submodule {
      options.databases = opt (types.listOf (types.either types.path (types.submodule {
        options.settings = opt (types.attrsOf (types.attrsOf types.anything)) { };
        options.lockAll = opt types.bool false;
        options.locks = opt (types.listOf types.str) [ ];
      }))) [ ];
    })) { };
    # nixos/modules/services/networking/tailscale.nix
    services.tailscale = {
      enable = enable;
      authKeyFile = opt (types.nullOr types.path) null;
      extraUpFlags = opt (types.listOf types.str) [ ];
    };
    # nixos/modules/config/fonts/fontconfig.nix (read by home-manager)
    fonts.fontconfig.enable = opt types.bool true;
    # nixos/modules/config/i18n.nix (read by agenix)
    i18n.defaultLocale = opt types.str "en_US.UTF-8";
  };
}
