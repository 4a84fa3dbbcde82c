# Stand-in for nixpkgs/nixos/modules/misc/assertions.nix (26.05), which home-manager imports from
# pkgs.path: the same two options with upstream's types.
{ lib, ... }:
{
  options = {
    assertions = lib.mkOption {
      type = lib.types.listOf lib.types.unspecified;
      internal = true;
      default = [ ];
    };
    warnings = lib.mkOption {
      internal = true;
      default = [ ];
      type = lib.types.listOf lib.types.str;
    };
  };
}
