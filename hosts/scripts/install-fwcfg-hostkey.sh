#!/bin/sh
# install-fwcfg-hostkey.sh [KEY [SOURCE]] -- hand a host key fleet made on the host (`fleet up
# --pregenerate-host-keys`) to sshd: copy SOURCE (the fw_cfg entry opt/agentfleet/ssh_host_ed25519_key)
# to KEY (0600) and derive KEY.pub from it, only when KEY does not exist yet. An existing key is the
# VM's identity, already pinned by fleet and used by agenix: never replaced. Runs before sshd's own key
# generation (NixOS: hosts/common/host-key.nix; the test image's init: scripts/make-test-image.sh), so
# without a fw_cfg entry sshd generates its key as usual. POSIX sh: busybox runs it too.
set -eu
key=${1:-/var/ssh/ssh_host_ed25519_key}
src=${2:-/sys/firmware/qemu_fw_cfg/by_name/opt/agentfleet/ssh_host_ed25519_key/raw}

if [ -e "$key" ]; then
  echo "agentfleet-hostkey: keeping the existing $key"
  exit 0
fi
if [ ! -r "$src" ]; then
  echo "agentfleet-hostkey: no host key handed over ($src absent); sshd generates its own"
  exit 0
fi

umask 077
mkdir -p "$(dirname "$key")"
tmp="$key.fwcfg.$$"
trap 'rm -f "$tmp" "$tmp.pub"' EXIT
cat "$src" > "$tmp"
chmod 600 "$tmp"
# Derived, not handed over: the public half always matches the private one, and a corrupt entry
# fails here instead of leaving sshd a key it cannot load.
if ! ssh-keygen -y -f "$tmp" > "$tmp.pub"; then
  echo "agentfleet-hostkey: $src is not a usable private key; sshd generates its own" >&2
  exit 1
fi
chmod 644 "$tmp.pub"
# Public half first: a crash in between leaves no private key without its public one.
mv "$tmp.pub" "$key.pub"
mv "$tmp" "$key"
echo "agentfleet-hostkey: installed $key from fw_cfg ($(cut -d' ' -f1,2 "$key.pub"))"
