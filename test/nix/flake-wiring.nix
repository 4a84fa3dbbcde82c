# Evaluates the real flake.nix `outputs` function with stand-in inputs, to check its wiring
# offline: which outputs exist and what the agent module imports. `lib` is nixpkgs' real lib
# (../shared/nix-sources); the configurations themselves are evaluated by ./eval-configs.nix.
{ repo, sources }:
let
  lib = import (sources + "/nixpkgs-lib/lib");
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
}
