#!/usr/bin/env bash
# setup.sh -- everything a fresh Debian 12 machine (as root) needs to build, test and run agentfleet:
# apt packages, npm dependencies (which compile the libvirt addon), the TypeScript build, a libvirtd,
# and the tiny test VM image the demo fleet and the end-to-end tests boot. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
  echo "setup.sh installs apt packages and starts libvirtd: run it as root (e.g. sudo $0)" >&2
  exit 1
fi

mapfile -t pkgs < <(grep -Ev '^\s*(#|$)' .ci/apt-packages)
if ! dpkg -s "${pkgs[@]}" >/dev/null 2>&1; then
  echo "==> apt: installing ${#pkgs[@]} packages"
  # A fresh machine's mirror may drop a connection: apt retries each download instead of failing the run.
  apt-get update -qq -o Acquire::Retries=3
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o Acquire::Retries=3 --no-install-recommends "${pkgs[@]}" >/dev/null
fi

echo "==> npm ci (builds the libvirt Node-API addon)"
npm ci --no-fund --no-audit
echo "==> npm run build (tsc -b, then the CLI bundle)"
npm run build --silent

echo "==> libvirtd"
scripts/libvirtd-up.sh

echo "==> test VM image"
# make-test-image.sh downloads the Debian kernel apt's lists name: lists older than the archive (a machine that had
# every package, so the update above was skipped) name a kernel the mirror no longer serves.
[ -f .cache/testvm/base.qcow2 ] || apt-get update -qq -o Acquire::Retries=3
scripts/make-test-image.sh
