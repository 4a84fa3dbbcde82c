{
  description = "agentfleet: a fleet of AI-agent NixOS VMs on libvirt";

  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-26.05";
    home-manager = {
      url = "github:nix-community/home-manager/release-26.05";
      inputs.nixpkgs.follows = "nixpkgs";
    };
    agenix = {
      url = "github:ryantm/agenix";
      inputs.nixpkgs.follows = "nixpkgs";
      inputs.home-manager.follows = "home-manager";
      # Only agenix's nix-darwin module needs it.
      inputs.darwin.follows = "";
    };
  };

  outputs =
    {
      self,
      nixpkgs,
      home-manager,
      agenix,
    }:
    let
      inherit (nixpkgs) lib;
      system = "x86_64-linux";
      pkgs = nixpkgs.legacyPackages.${system};

      # Agents, admin keys and host keys, all read from data files (hosts/agents.nix says which).
      fleet = import ./hosts/agents.nix { root = ./.; };

      nixosSystem =
        modules:
        lib.nixosSystem {
          modules = [
            {
              nixpkgs.hostPlatform = system;
              agentfleet.adminKeys = fleet.adminKeys;
            }
          ]
          ++ modules;
        };

      # Hand-written additions for one agent, if any: hosts/agent-<name>/default.nix.
      extraHostModules =
        name:
        let
          dir = ./hosts + "/agent-${name}";
        in
        lib.optional (builtins.pathExists dir) dir;

      agentSystem =
        name: settings:
        nixosSystem (
          [
            self.nixosModules.agent
            { agentfleet.agent = settings; }
          ]
          ++ extraHostModules name
        );

      fleetPackage = pkgs.buildNpmPackage {
        pname = "agentfleet";
        inherit ((lib.importJSON ./package.json)) version;
        src = lib.fileset.toSource {
          root = ./.;
          fileset = lib.fileset.unions [
            ./package.json
            ./package-lock.json
            ./tsconfig.json
            ./tsconfig.base.json
            ./packages
            # `npm run build` bundles the CLI with it after `tsc -b`.
            ./scripts/bundle-cli.mjs
          ];
        };
        # The hash of the npm dependencies cannot be computed without network access. The first
        # `nix build .#fleet` fails and prints the real hash ("got: sha256-..."): put it here.
        npmDepsHash = lib.fakeHash;
        # node-gyp compiles packages/libvirt's addon during `npm rebuild`, finding libvirt
        # through pkg-config.
        nativeBuildInputs = [
          pkgs.pkg-config
          pkgs.python3
          pkgs.makeWrapper
        ];
        buildInputs = [ pkgs.libvirt ];
        # `npm run build` is `tsc -b`, then the CLI's bundle and its code cache (packages/cli/dist/fleet.cjs
        # and fleet.cjs.cache, made by this build's Node, which runs them). The default install step packs
        # with `npm pack`, which would leave out dist/ (git-ignored) and the workspace links; install the
        # built tree.
        dontNpmInstall = true;
        installPhase = ''
          runHook preInstall
          mkdir -p $out/lib/agentfleet $out/bin
          cp -r package.json node_modules packages $out/lib/agentfleet/
          makeWrapper ${pkgs.nodejs}/bin/node $out/bin/fleet \
            --add-flags $out/lib/agentfleet/packages/cli/dist/main.js
          runHook postInstall
        '';
        meta = {
          description = "Fleet manager for AI-agent NixOS VMs on libvirt";
          mainProgram = "fleet";
          license = lib.licenses.mit;
        };
      };
    in
    {
      nixosModules.agent = {
        imports = [
          home-manager.nixosModules.home-manager
          agenix.nixosModules.default
          ./hosts/common
        ];
      };
      nixosModules.default = self.nixosModules.agent;

      nixosConfigurations = {
        agent-base = nixosSystem [ ./hosts/agent-base ];
      }
      // lib.mapAttrs' (name: settings: lib.nameValuePair "agent-${name}" (agentSystem name settings)) fleet.agents;

      packages.${system} = {
        fleet = fleetPackage;
        default = fleetPackage;
      };

      apps.${system} = rec {
        fleet = {
          type = "app";
          program = lib.getExe fleetPackage;
          meta.description = "The fleet command";
        };
        default = fleet;
      };

      devShells.${system}.default = pkgs.mkShell {
        packages = [
          pkgs.nodejs
          pkgs.python3
          pkgs.pkg-config
          pkgs.libvirt
          pkgs.qemu
          pkgs.age
          pkgs.openssh
          pkgs.nix
          agenix.packages.${system}.default
        ];
      };
    };
}
