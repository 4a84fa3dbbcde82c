# Stand-in for nixpkgs/nixos/lib/make-disk-image.nix (26.05): takes the arguments the real one
# takes (an unknown one is an error, as there) and builds nothing.
{
  config,
  lib,
  pkgs,
  format ? "raw",
  partitionTableType ? "legacy",
  diskSize ? "auto",
  copyChannel ? true,
  ...
}@args:
let
  known = [
    "config"
    "lib"
    "pkgs"
    "format"
    "partitionTableType"
    "diskSize"
    "copyChannel"
    "additionalSpace"
    "bootSize"
    "contents"
    "fsType"
    "label"
    "name"
    "baseName"
    "installBootLoader"
    "memSize"
    "onlyNixStore"
    "postVM"
  ];
  unknown = builtins.filter (n: !builtins.elem n known) (builtins.attrNames args);
in
assert lib.assertMsg (unknown == [ ]) "make-disk-image: unknown arguments ${toString unknown}";
assert lib.assertMsg (builtins.elem format [ "raw" "qcow2" "qcow2-compressed" "vdi" "vpc" ]) "make-disk-image: format ${format}";
assert lib.assertMsg (builtins.elem partitionTableType [ "legacy" "legacy+boot" "legacy+gpt" "efi" "efixbootldr" "hybrid" "none" ]) "make-disk-image: partitionTableType ${partitionTableType}";
{
  type = "derivation";
  name = "nixos-disk-image";
  outPath = "/nix/store/stand-in-nixos-disk-image";
  inherit format partitionTableType diskSize copyChannel;
}
