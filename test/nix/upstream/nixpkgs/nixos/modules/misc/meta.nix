# Stand-in for nixpkgs/nixos/modules/misc/meta.nix (26.05), imported by home-manager from pkgs.path:
# the meta options modules set, with upstream's merge-anything types.
{ lib, ... }:
let
  listOfAnything = lib.types.listOf lib.types.raw;
in
{
  options.meta = {
    maintainers = lib.mkOption {
      type = listOfAnything;
      internal = true;
      default = [ ];
    };
    teams = lib.mkOption {
      type = listOfAnything;
      internal = true;
      default = [ ];
    };
    doc = lib.mkOption {
      type = lib.types.attrsOf lib.types.path;
      internal = true;
      default = { };
    };
    buildDocsInSandbox = lib.mkOption {
      type = lib.types.bool;
      internal = true;
      default = true;
    };
  };
}
