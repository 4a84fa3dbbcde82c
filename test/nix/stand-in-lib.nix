# The few nixpkgs `lib` functions the repository's Nix files call, for offline tests (nixpkgs is
# not on this machine). List and attrset helpers behave as nixpkgs' do; the module-system ones
# (mkIf, mkDefault, gvariant) return inspectable markers instead of being merged.
{
  nameValuePair = name: value: { inherit name value; };
  mapAttrs = builtins.mapAttrs;
  mapAttrs' = f: set: builtins.listToAttrs (map (name: f name set.${name}) (builtins.attrNames set));
  mapAttrsToList = f: set: map (name: f name set.${name}) (builtins.attrNames set);
  unique = builtins.foldl' (kept: x: if builtins.elem x kept then kept else kept ++ [ x ]) [ ];
  optional = cond: x: if cond then [ x ] else [ ];
  optionalAttrs = cond: set: if cond then set else { };
  concatStringsSep = builtins.concatStringsSep;

  mkIf = condition: content: {
    _type = "if";
    inherit condition content;
  };
  mkDefault = content: {
    _type = "override";
    priority = 1000;
    inherit content;
  };
  gvariant.mkUint32 = value: {
    _type = "gvariant";
    type = "u";
    inherit value;
  };
}
