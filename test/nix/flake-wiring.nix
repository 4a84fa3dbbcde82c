# Evaluates the real flake.nix `outputs` function with stand-in inputs, to check its wiring
# offline: which outputs exist and what each nixosConfiguration is given. nixpkgs is not here,
# so `lib` is ./stand-in-lib.nix, and `nixosSystem` returns its arguments instead of evaluating
# NixOS.
{ repo }:
let
  lib = import ./stand-in-lib.nix // {
    nixosSystem = args: args;
  };
  flake = import (repo + "/flake.nix");
  outputs = flake.outputs {
    self = outputs;
    nixpkgs = {
      inherit lib;
      legacyPackages = { };
    };
    # Stand-in modules, recognisable by name in agentModuleImports.
    home-manager.nixosModules.home-manager = "home-manager.nixosModules.home-manager";
    agenix.nixosModules.default = "agenix.nixosModules.default";
  };
  system = "x86_64-linux";

  # What the configuration's inline modules set under agentfleet, merged; paths listed apart.
  agentfleetOf =
    config:
    builtins.foldl' (
      acc: module: if builtins.isAttrs module && module ? agentfleet then acc // module.agentfleet else acc
    ) { } config.modules;
  # Paths as strings: turning a path into JSON would copy it into the Nix store.
  withSecretFileNames =
    agentfleet:
    if agentfleet ? agent then
      agentfleet
      // {
        agent = agentfleet.agent // {
          secretFiles = builtins.mapAttrs (_: toString) agentfleet.agent.secretFiles;
        };
      }
    else
      agentfleet;
  pathsOf =
    config:
    map (p: builtins.baseNameOf (toString p)) (builtins.filter builtins.isPath config.modules);
in
{
  inputs = builtins.mapAttrs (_: input: input.url) flake.inputs;
  outputNames = builtins.attrNames outputs;
  packages = builtins.attrNames outputs.packages.${system};
  apps = builtins.attrNames outputs.apps.${system};
  devShells = builtins.attrNames outputs.devShells.${system};
  nixosModules = builtins.attrNames outputs.nixosModules;
  agentModuleImports = map (
    m: if builtins.isPath m then builtins.baseNameOf (toString m) else m
  ) outputs.nixosModules.agent.imports;
  configurations = builtins.mapAttrs (_: config: {
    agentfleet = withSecretFileNames (agentfleetOf config);
    paths = pathsOf config;
    usesAgentModule = builtins.elem outputs.nixosModules.agent config.modules;
  }) outputs.nixosConfigurations;
}
