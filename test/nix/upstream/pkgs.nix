# A stand-in `pkgs`: derivation-shaped values for the packages the configurations name, so option
# types (types.package) check them, and nothing is built. Naming a package not listed here is an
# evaluation error, like a package missing from nixpkgs.
{ lib, path }:
let
  package = name: {
    type = "derivation";
    inherit name;
    pname = name;
    version = "0";
    outPath = "/nix/store/00000000000000000000000000000000-${name}";
    outputs = [ "out" ];
    meta = { };
    passthru = { };
  };
  names = [
    "bash"
    "bashInteractive"
    "bat"
    "bitwarden-cli"
    "coreutils"
    "eza"
    "fd"
    "fzf"
    "git"
    "gnused"
    "himalaya"
    "htop"
    "jq"
    "nix"
    "openssh"
    "rage"
    "systemd"
    "age"
    "shared-mime-info"
    "man"
    "glibcLocales"
    "ripgrep"
    "tailscale"
    "tree"
  ];
in
lib.genAttrs names package
// {
  inherit lib;
  runtimeShell = "/nix/store/00000000000000000000000000000000-bash/bin/bash";
  # nixpkgs' tree as far as this machine has it: lib (../shared/nix-sources) and the stand-ins
  # under ./nixpkgs/nixos, joined by the test (home-manager imports files from both).
  inherit path;
  stdenv = rec {
    hostPlatform = {
      system = "x86_64-linux";
      isLinux = true;
      isDarwin = false;
      isx86_64 = true;
      isAarch64 = false;
    };
    buildPlatform = hostPlatform;
    inherit (hostPlatform) isLinux isDarwin system;
  };
  writeScript = name: _text: package name;
  writeText = name: _text: package name;
  writeTextFile = args: package args.name;
  runCommand = name: _env: _script: package name;
  runCommandLocal = name: _env: _script: package name;
  symlinkJoin = args: package args.name;
  buildEnv = args: package args.name;
  makeDesktopItem = args: package args.name;
  writeShellScript = name: _text: package name;
  # pkgs.formats.<f> { }: a value type and a generator, as nixpkgs' pkgs-lib/formats.nix has.
  formats = lib.genAttrs [
    "json"
    "yaml"
    "yaml_1_1"
    "yaml_1_2"
    "toml"
    "ini"
    "iniWithGlobalSection"
    "keyValue"
    "gitIni"
    "lua"
    "xml"
    "elixirConf"
    "javaProperties"
    "hocon"
    "php"
    "pythonVars"
    "nixConf"
    "systemd"
    "libconfig"
    "plist"
    "cdn"
    "kdl"
    "toml"
  ] (
    name: _settings: {
      type = lib.types.anything;
      generate = file: _value: package file;
      lib.types = {
        atom = lib.types.anything;
        listOrAtom = lib.types.anything;
        attrsOfAtom = lib.types.attrsOf lib.types.anything;
      };
    }
  );
}
