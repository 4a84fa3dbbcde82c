# agentfleet.agent.shares: host directories fleet puts in the domain as virtiofs devices (agent YAML shares:), each
# mounted at its target. nofail: a VM whose domain lacks a share (defined by hand, or before the share was added)
# still boots. Read-only is also the host's doing (a read-only bind mount behind virtiofsd); "ro" here only spares
# programs a write that would fail.
{ config, lib, ... }:
let
  cfg = config.agentfleet.agent;
in
{
  fileSystems = lib.listToAttrs (
    map (share: {
      name = share.target;
      value = {
        device = share.tag;
        fsType = "virtiofs";
        options = [ "nofail" ] ++ (if share.readOnly then [ "ro" ] else [ "rw" ]);
      };
    }) cfg.shares
  );
}
