import { Option } from 'commander';

/** `--build-on host|guest` of up, rebuild and provision. */
export const buildOnOption = () =>
  new Option(
    '--build-on <where>',
    "where agents' NixOS systems are built: host (one nix build here for all agents, closures copied in over the pinned SSH) or guest (nixos-rebuild inside each agent); default: fleet.yaml provision.build, else guest",
  ).choices(['host', 'guest']);
