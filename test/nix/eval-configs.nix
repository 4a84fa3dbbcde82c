# Evaluates flake.nix's nixosConfigurations (agent-base and every agent-<name>) through the real
# module system (nixpkgs lib), with the real agenix and home-manager NixOS modules, on the NixOS
# option declarations in ./upstream (types from nixpkgs 26.05) and a stand-in pkgs. Unknown options
# and type errors abort the evaluation; failed assertions and warnings are returned, with the
# values tests check. Nothing is built.
{
  # The fleet repository whose flake.nix is evaluated.
  root,
  # ../shared/nix-sources: nixpkgs' lib, home-manager and agenix at their pinned revisions.
  sources,
  # A directory joining nixpkgs' lib/ (sources) and nixos/ (./upstream/nixpkgs/nixos): pkgs.path.
  nixpkgs,
}:
let
  # The mirror holds nixpkgs master's lib (release 26.11 at its revision); the flake pins
  # nixos-26.05, whose lib says 26.05, which home-manager's release check compares with its own.
  lib = (import (sources + "/nixpkgs-lib/lib")).extend (
    _: prev: {
      release = "26.05";
      trivial = prev.trivial // {
        release = "26.05";
      };
    }
  );
  pkgs = import ./upstream/pkgs.nix {
    inherit lib;
    path = nixpkgs;
  };
  # nixpkgs.lib.nixosSystem: the module system over the NixOS declarations this machine has.
  nixosSystem =
    { modules, ... }:
    lib.evalModules {
      class = "nixos";
      specialArgs = {
        modulesPath = toString (nixpkgs + "/nixos/modules");
        utils.escapeSystemdPath = s: builtins.replaceStrings [ "/" "-" " " ] [ "-" "\\x2d" "\\x20" ] s;
      };
      modules = [
        { _module.args = { inherit pkgs; }; }
        (nixpkgs + "/nixos/modules/misc/assertions.nix")
        (nixpkgs + "/nixos/modules/misc/meta.nix")
        ./upstream/nixos-options.nix
      ]
      ++ modules;
    };

  # The real flake.nix outputs, given the real agenix and home-manager NixOS modules.
  flake = import (root + "/flake.nix");
  outputs = flake.outputs {
    self = outputs;
    nixpkgs = {
      lib = lib // {
        inherit nixosSystem;
      };
      legacyPackages.x86_64-linux = pkgs;
    };
    home-manager.nixosModules.home-manager = sources + "/home-manager/nixos";
    agenix.nixosModules.default = sources + "/agenix/modules/age.nix";
  };

  summary =
    config:
    {
      failedAssertions = map (a: a.message) (builtins.filter (a: !a.assertion) config.assertions);
      inherit (config) warnings;
      hostName = config.networking.hostName;
      kernelModules = config.boot.kernelModules;
      users = lib.mapAttrs (_: u: {
        inherit (u) isNormalUser extraGroups home;
        authorizedKeys = u.openssh.authorizedKeys.keys;
      }) config.users.users;
      services = lib.mapAttrs (_: s: {
        inherit (s) wantedBy before after;
        serviceConfig = lib.mapAttrs (_: toString) s.serviceConfig;
        unitConfig = lib.mapAttrs (_: toString) s.unitConfig;
      }) (lib.filterAttrs (n: _: lib.hasPrefix "agentfleet-" n) config.systemd.services);
      openssh = {
        inherit (config.services.openssh) hostKeys;
        inherit (config.services.openssh.settings) PermitRootLogin PasswordAuthentication;
      };
      wheelNeedsPassword = config.security.sudo.wheelNeedsPassword;
      identityPaths = config.age.identityPaths or [ ];
      secrets = lib.mapAttrs (_: s: { inherit (s) owner mode path; file = toString s.file; }) (config.age.secrets or { });
      tailscale = {
        inherit (config.services.tailscale) enable extraUpFlags;
        authKeyFile = if config.services.tailscale.authKeyFile == null then null else toString config.services.tailscale.authKeyFile;
      };
      autoLogin = {
        inherit (config.services.displayManager.autoLogin) enable user;
      };
      fileSystems = lib.mapAttrs (_: f: { inherit (f) device fsType options; }) config.fileSystems;
      gnome = config.services.desktopManager.gnome.enable;
      gnomeKeyring = config.services.gnome.gnome-keyring.enable;
    }
    // lib.optionalAttrs (config ? agentfleet.agent) (
      let
        hm = config.home-manager.users.${config.agentfleet.agent.user};
      in
      {
        home = {
          packages = map (p: p.pname or p.name) hm.home.packages;
          shellAliases = hm.home.shellAliases;
          git = {
            inherit (hm.programs.git.settings) user;
            signing = { inherit (hm.programs.git.signing) format key signByDefault; };
          };
          himalaya = hm.programs.himalaya.enable;
          mail = lib.mapAttrs (_: a: {
            inherit (a) address passwordCommand;
            imap = { inherit (a.imap) host port; };
            smtp = { inherit (a.smtp) host port; };
          }) hm.accounts.email.accounts;
        };
      }
    );
in
builtins.mapAttrs (_: system: summary system.config) outputs.nixosConfigurations
