#!/bin/sh
# libvirtd-up.sh [stop] -- start (or stop) virtlogd + libvirtd without systemd (CI, containers). Idempotent; root only.
# Debian 12 ships only the monolithic libvirtd. As root, qemu:///system and qemu:///session reach this daemon.
set -eu
VLOGD_PID=/run/virtlogd.pid LVD_PID=/run/libvirtd.pid
alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

if [ "${1:-}" = stop ]; then
  # Domains first: their qemu processes would outlive libvirtd.
  for d in $(virsh -c qemu:///system list --name 2>/dev/null); do virsh -c qemu:///system destroy "$d" >/dev/null || true; done
  for p in $LVD_PID $VLOGD_PID; do alive $p && kill "$(cat $p)"; rm -f $p; done
  exit 0
fi

[ "$(id -u)" = 0 ] || { echo "libvirtd-up.sh: must run as root" >&2; exit 1; }
command -v libvirtd >/dev/null || { echo "libvirtd-up.sh: libvirtd missing: apt-get install libvirt-daemon libvirt-daemon-driver-qemu qemu-system-x86" >&2; exit 1; }

# Debian's qemu driver refuses to initialise unless the libvirt-qemu user exists, even when qemu.conf says root.
getent group libvirt-qemu >/dev/null || groupadd -r libvirt-qemu
getent passwd libvirt-qemu >/dev/null || useradd -r -g libvirt-qemu -M -d /var/lib/libvirt -s /usr/sbin/nologin libvirt-qemu
# Run qemu as root so disks and console logs may live anywhere (state dirs under $HOME) without chown.
Q=/etc/libvirt/qemu.conf
grep -qs '^user *=' $Q || echo 'user = "root"' >> $Q
grep -qs '^group *=' $Q || echo 'group = "root"' >> $Q
mkdir -p /var/log/libvirt /var/lib/libvirt /run/libvirt   # virtlogd dies without /var/log/libvirt

alive $VLOGD_PID || virtlogd -d -p $VLOGD_PID
alive $LVD_PID || libvirtd -d -p $LVD_PID
i=0; until virsh -c qemu:///system version >/dev/null 2>&1; do
  i=$((i+1)); [ $i -lt 300 ] || { echo "libvirtd did not come up (see /var/log/libvirt/libvirtd.log)" >&2; exit 1; }; sleep 0.1; done
echo "libvirtd up (pid $(cat $LVD_PID))"
