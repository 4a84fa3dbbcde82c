#!/bin/sh
# make-test-image.sh [OUTDIR] -- build the tiny test VM image that stands in for the NixOS agent base image in tests.
# Output (default <repo>/.cache/testvm):
#   base.qcow2         BIOS-bootable disk: FAT16 + syslinux + Debian cloud kernel + busybox/dropbear initramfs
#   vmlinuz, initrd.img the same kernel/initramfs (for direct kernel boot)
#   id_ed25519[.pub]   admin key pair authorized for root (kept across rebuilds)
# Guest behaviour (see the init script below): DHCP on eth0, dropbear on :22 (root, keys only) serving the
# OpenSSH-format host key at /var/ssh/ssh_host_ed25519_key, which is generated on first boot and kept on the VM's
# own disk (or, on a first boot, installed from fw_cfg opt/agentfleet/ssh_host_ed25519_key by the NixOS module's own
# hosts/scripts/install-fwcfg-hostkey.sh, its output in /var/log/agentfleet-hostkey.log); extra authorized keys from fw_cfg
# opt/agentfleet/authorized_keys; the virtiofs shares fw_cfg opt/agentfleet/shares announces, mounted; ACPI power button ->
# poweroff; SFTP; a fake nixos-rebuild that decrypts secrets/*.age with the host key via the real age binary;
# "AGENTFLEET READY" on the serial console.
# Idempotent: skipped when base.qcow2 exists and was built by this very script (hash stamp). Safe to run
# concurrently (flock on OUTDIR.lock).
set -eu
SELF=$(realpath "$0")
REPO=$(dirname "$(dirname "$SELF")")
OUT=$(realpath -m "${1:-$REPO/.cache/testvm}")
mkdir -p "$OUT"
exec 9>"$OUT.lock"
flock 9

# The host-key hand-over NixOS runs (hosts/common/host-key.nix), run here by init: one script, so the e2e tests
# exercise the real logic.
HOSTKEY_SCRIPT=$REPO/hosts/scripts/install-fwcfg-hostkey.sh
STAMP=$(cat "$SELF" "$HOSTKEY_SCRIPT" | sha256sum | cut -d' ' -f1)
if [ -f "$OUT/base.qcow2" ] && [ "$(cat "$OUT/.stamp" 2>/dev/null)" = "$STAMP" ]; then
  echo "test image up to date: $OUT/base.qcow2"
  exit 0
fi

for tool in busybox dropbear dropbearkey dropbearconvert age syslinux mcopy mkfs.fat cpio qemu-img ssh-keygen nix; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || {
    echo "make-test-image.sh: '$tool' missing; install the packages in .ci/apt-packages" >&2; exit 1; }
done
[ -x /usr/lib/openssh/sftp-server ] || { echo "make-test-image.sh: /usr/lib/openssh/sftp-server missing (openssh-server)" >&2; exit 1; }

W=$(mktemp -d "$OUT/build.XXXXXX"); R=$W/root
trap 'rm -rf "$W"' EXIT
DEBS=$OUT/debs; mkdir -p "$DEBS"

# 1. Kernel: download, not install (no initramfs-tools/grub hooks), the current Debian cloud kernel; keep the .deb.
KPKG=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-/{print $2; exit}')
if [ -z "$KPKG" ]; then
  apt-get update -qq
  KPKG=$(apt-cache depends linux-image-cloud-amd64 | awk '/Depends: linux-image-/{print $2; exit}')
fi
if ! ls "$DEBS/$KPKG"_*.deb >/dev/null 2>&1; then
  (cd "$DEBS" && apt-get download -qq -o APT::Sandbox::User=root "$KPKG")
fi
dpkg-deb -x "$(ls "$DEBS/$KPKG"_*.deb | head -1)" "$W/kpkg"
KVER=${KPKG#linux-image-}; KM=$W/kpkg/lib/modules/$KVER

# 2. Root filesystem (the initramfs): busybox, dropbear + key tools, age, sftp-server, their libs, a few modules.
mkdir -p "$R"/bin "$R"/sbin "$R"/usr/bin "$R"/usr/sbin "$R"/usr/lib "$R"/etc/dropbear "$R"/etc/acpi/PWRF \
  "$R"/root/.ssh "$R"/proc "$R"/sys "$R"/dev "$R"/tmp "$R"/run "$R"/var/log "$R"/var/ssh "$R"/boot \
  "$R/lib/modules/$KVER"
cp /bin/busybox "$R"/bin/
for a in $(busybox --list-full); do [ -e "$R/$a" ] || ln -s /bin/busybox "$R/$a"; done
copy_bin() { # copy_bin SRC DEST: an executable plus the shared libraries it links
  cp "$1" "$R$2"
  for l in $(ldd "$1" 2>/dev/null | grep -o '/[^ ]*'); do mkdir -p "$R$(dirname "$l")"; cp -L "$l" "$R$l"; done
}
copy_bin /usr/sbin/dropbear /usr/sbin/dropbear
copy_bin /usr/bin/dropbearkey /usr/bin/dropbearkey
copy_bin /usr/bin/dropbearconvert /usr/bin/dropbearconvert
copy_bin /usr/bin/age /usr/bin/age
copy_bin /usr/bin/ssh-keygen /usr/bin/ssh-keygen
cp "$HOSTKEY_SCRIPT" "$R/usr/sbin/install-fwcfg-hostkey"; chmod 755 "$R/usr/sbin/install-fwcfg-hostkey"
# dropbear runs its compiled-in sftp path for the "sftp" subsystem.
SFTP=$(tr '\0' '\n' < /usr/sbin/dropbear | grep -m1 '^/.*/sftp-server$')
mkdir -p "$R$(dirname "$SFTP")"
copy_bin /usr/lib/openssh/sftp-server "$SFTP"

# Modules plus everything they depend on (the .ko's own modinfo section lists them; no kmod needed).
add_module() {
  f=$(find "$KM" -name "$1.ko" | head -1)
  [ -n "$f" ] || return 0 # built into the kernel
  [ -e "$R/lib/modules/$KVER/$1.ko" ] && return 0
  cp "$f" "$R/lib/modules/$KVER/"
  for d in $(tr '\0' '\n' < "$f" | sed -n 's/^depends=//p' | tr ',' ' '); do add_module "$d"; done
}
# Only what a virtio guest needs (each module load costs under TCG). virtio-rng: without it the guest waits ~5 s
# for its entropy pool before dropbear can make keys.
MODULES="virtio_pci virtio_net virtio_blk virtio-rng button evdev qemu_fw_cfg vfat nls_cp437 nls_ascii nls_utf8"
# virtiofs (and its fuse) only for shares: loaded by init when fleet announces one, so other boots pay nothing.
for m in $MODULES virtiofs; do add_module "$m"; done
busybox depmod -b "$R" "$KVER"

# 3. Users, admin key, configuration.
[ -f "$OUT/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C agentfleet-test-admin -f "$OUT/id_ed25519"
cp "$OUT/id_ed25519.pub" "$R/root/.ssh/authorized_keys"
chmod 700 "$R/root/.ssh"; chmod 600 "$R/root/.ssh/authorized_keys"
echo 'root:x:0:0:root:/root:/bin/sh' > "$R/etc/passwd"; echo 'root:*:1::::::' > "$R/etc/shadow"
echo 'root:x:0:' > "$R/etc/group"; echo /bin/sh > "$R/etc/shells"
printf '#!/bin/sh\necho "AGENTFLEET POWEROFF" > /dev/console; sync; umount /boot 2>/dev/null; poweroff -f\n' \
  > "$R/etc/acpi/PWRF/00000080"

cat > "$R/etc/udhcpc.sh" <<'EOF'
#!/bin/sh
# busybox udhcpc hook: address, default route, DNS
[ "$1" = bound ] || [ "$1" = renew ] || exit 0
ip addr flush dev "$interface"; ip addr add "$ip/${mask:-24}" dev "$interface"
[ -n "${mtu:-}" ] && ip link set "$interface" mtu "$mtu"
for r in ${router:-}; do ip route add default via "$r" dev "$interface" onlink; break; done
for d in ${dns:-}; do echo "nameserver $d"; done > /etc/resolv.conf
EOF

# `sudo` is a pass-through: the guest only has root, but the fleet runs `sudo nixos-rebuild ...` as on NixOS.
cat > "$R/usr/bin/sudo" <<'EOF'
#!/bin/sh
while [ $# -gt 0 ]; do case "$1" in -E|-H|-n|-S) shift ;; --) shift; break ;; -*) shift ;; *) break ;; esac; done
exec "$@"
EOF

# Stand-in for NixOS's nixos-rebuild: records its arguments and, on `switch --flake PATH#agent-NAME`, decrypts
# what agenix would (PATH/secrets/*.age) with the host key into /run/agenix. PATH/FAIL_REBUILD makes it fail.
# Inputs as nix pins them: without PATH/flake.lock it "resolves" them (a lock unique to this run, as two
# resolutions of moving branches may differ) and writes one, unless --no-update-lock-file forbids it; it records
# "lock: <sha256 of flake.lock>" so tests see which inputs each rebuild used.
cat > "$R/usr/bin/nixos-rebuild" <<'EOF'
#!/bin/sh
LOG=/var/log/nixos-rebuild.log
echo "$*" >> $LOG
action=${1:-}; flake=; frozen=
while [ $# -gt 0 ]; do
  case "$1" in
    --flake) flake=${2:-}; shift ;; --flake=*) flake=${1#--flake=} ;; --no-update-lock-file) frozen=1 ;;
  esac
  shift
done
echo "nixos-rebuild: $action ${flake:-(no flake)}"
dir=${flake%%#*}; dir=${dir#path:}; attr=${flake#*#}
if [ -n "$flake" ] && [ -d "$dir" ]; then
  if [ -e "$dir/FAIL_REBUILD" ]; then
    echo "error: building the system configuration for $attr failed (FAIL_REBUILD present)" >&2
    echo "failed: $dir/FAIL_REBUILD" >> $LOG
    exit 1
  fi
  if [ ! -e "$dir/flake.lock" ]; then
    if [ -n "$frozen" ]; then
      echo "error: flake 'path:$dir' requires lock file changes but they're not allowed due to '--no-update-lock-file'" >&2
      echo "failed: no flake.lock" >> $LOG
      exit 1
    fi
    echo "warning: creating lock file '$dir/flake.lock'"
    printf '{"nodes":{"root":{}},"resolved":"%s","root":"root","version":7}\n' "$(cat /proc/sys/kernel/random/uuid)" \
      > "$dir/flake.lock"
  fi
  echo "lock: $(sha256sum "$dir/flake.lock" | cut -d' ' -f1)" >> $LOG
  echo "building the system configuration for $attr..."
  echo "activating the configuration..."
  if [ "$action" = switch ]; then
    mkdir -p /run/agenix; chmod 751 /run/agenix
    for f in "$dir"/secrets/*.age; do
      [ -e "$f" ] || continue
      name=$(basename "$f" .age)
      if age -d -i /var/ssh/ssh_host_ed25519_key -o "/run/agenix/$name.tmp" "$f" 2>/tmp/age.err; then
        chmod 400 "/run/agenix/$name.tmp"; mv "/run/agenix/$name.tmp" "/run/agenix/$name"
        echo "agenix: decrypted $name"; echo "decrypted: $name" >> $LOG
      else
        rm -f "/run/agenix/$name.tmp"
        echo "agenix: cannot decrypt $name: $(cat /tmp/age.err)" >&2; echo "skipped: $name" >> $LOG
      fi
    done
  fi
elif [ -n "$flake" ]; then
  echo "fetching $flake..."
fi
echo "nixos-rebuild: done"
EOF

# Nix for the host-build tests (fleet copies closures in with `nix copy --to ssh-ng://`, which runs `nix-daemon --stdio`
# here, then `nix-env --set` and switch-to-configuration): Debian's nix-bin with its libraries (~70 MB) sits on the boot
# disk in /nix-bin and runs from there in place (nothing to unpack, which under TCG takes minutes), so the initramfs (and
# the boot every other test waits for) stays as small as before. Single-user as root, local store, no build users, no
# sandbox, no substituters. FAT has no symlinks: the multi-call names (nix-daemon, ...) are made in /run on first use.
NX=$W/nix-bin; mkdir -p "$NX/lib"
cp /usr/bin/nix "$NX/nix"
for l in $(ldd /usr/bin/nix | grep -o '/[^ ]*' | grep -v '/ld-linux'); do cp -L "$l" "$NX/lib/"; done
mkdir -p "$R/etc/nix"
# require-sigs = false: NixOS runs a nix-daemon that trusts the admin login (nix.settings.trusted-users, so unsigned
# host-built paths are accepted); here `nix-daemon --stdio` serves the store directly and nix 2.8 treats that client
# as untrusted, so the store itself must take unsigned paths.
printf 'build-users-group =\nsandbox = false\nsubstituters =\nexperimental-features = nix-command\nrequire-sigs = false\n' > "$R/etc/nix/nix.conf"
cat > "$R/usr/bin/nix-lazy" <<'EOF'
#!/bin/sh
# nix, nix-daemon, nix-store, nix-env: the real nix on the boot disk, called by the name it was called with.
n=/run/nix-bin/$(basename "$0")
[ -e "$n" ] || { mkdir -p /run/nix-bin && ln -sf /boot/nix-bin/nix "$n"; }
LD_LIBRARY_PATH=/boot/nix-bin/lib exec "$n" "$@"
EOF
chmod 755 "$R/usr/bin/nix-lazy"
for n in nix nix-daemon nix-store nix-env; do ln -s nix-lazy "$R/usr/bin/$n"; done

cat > "$R/init" <<'EOF'
#!/bin/sh
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
mkdir -p /dev/pts; mount -t devpts devpts /dev/pts; mount -t tmpfs tmp /tmp; mount -t tmpfs run /run
for m in virtio_pci virtio_net virtio_blk virtio-rng button evdev qemu_fw_cfg vfat nls_cp437 nls_ascii nls_utf8; do
  modprobe $m 2>/dev/null
done
say() { echo "$*" > /dev/console; }
FW=/sys/firmware/qemu_fw_cfg/by_name/opt/agentfleet
fw() { [ -r "$FW/$1/raw" ] && cat "$FW/$1/raw"; }

hostname "$(fw hostname || echo testvm)"; ip link set lo up
fw authorized_keys >> /root/.ssh/authorized_keys

# The boot disk is the VM's own: its FAT filesystem keeps the host key, so the key is per disk and survives reboots.
mounted=
for i in 1 2 3 4 5 6 7 8 9 10; do
  [ -b /dev/vda ] && mount -t vfat -o rw /dev/vda /boot 2>/dev/null && mounted=/dev/vda && break
  sleep 0.2
done
# /var/ssh is in RAM here; the disk's copy stands for NixOS' persistent /var/ssh. Then the same order as NixOS: the
# fw_cfg hand-over (only when no key exists), else the SSH server's own key generation.
K=/var/ssh/ssh_host_ed25519_key
if [ -s /boot/agentfleet/ssh_host_ed25519_key ]; then
  cp /boot/agentfleet/ssh_host_ed25519_key $K; src="disk"
fi
install-fwcfg-hostkey $K > /var/log/agentfleet-hostkey.log 2>&1 || true
if [ -z "${src:-}" ] && [ -s $K ]; then
  src="fw_cfg"
elif [ -z "${src:-}" ]; then
  dropbearkey -t ed25519 -f /tmp/new_host_key >/dev/null 2>&1 && dropbearconvert dropbear openssh /tmp/new_host_key $K >/dev/null 2>&1
  src="generated"
fi
chmod 600 $K
if [ "$src" != disk ]; then
  if [ -n "$mounted" ]; then
    mkdir -p /boot/agentfleet && cp $K /boot/agentfleet/ssh_host_ed25519_key.tmp \
      && mv /boot/agentfleet/ssh_host_ed25519_key.tmp /boot/agentfleet/ssh_host_ed25519_key && sync
  else
    src="$src (not persisted: boot disk not mounted)"
  fi
fi
dropbearconvert openssh dropbear $K /etc/dropbear/host_key >/dev/null 2>&1
dropbearkey -y -f /etc/dropbear/host_key | grep '^ssh-ed25519 ' | cut -d' ' -f1,2 > $K.pub
echo "$(cat $K.pub) root@$(hostname)" > $K.pub

# Shares (agent YAML shares:): fleet announces them in fw_cfg opt/agentfleet/shares as "TAG:MOUNTPOINT:ro|rw ..."; NixOS
# mounts them from its own configuration (hosts/common/shares.nix), this image from the announcement.
shares=$(fw shares || true)
if [ -n "$shares" ]; then
  modprobe virtiofs
  for s in $shares; do
    tag=${s%%:*}; rest=${s#*:}; mp=${rest%:*}; mode=${rest##*:}
    mkdir -p "$mp"
    if mount -t virtiofs -o "$mode" "$tag" "$mp"; then say "AGENTFLEET SHARE $tag $mp $mode"
    else say "AGENTFLEET SHARE FAILED $tag $mp"; fi
  done
fi

acpid -c /etc/acpi
for i in eth0; do ip link set $i up; udhcpc -q -f -n -t 10 -i $i -O mtu -s /etc/udhcpc.sh >/dev/null 2>&1 \
  || { ip addr add 10.0.2.15/24 dev $i; ip route add default via 10.0.2.2; }; done
dropbear -E -s -p 22 -r /etc/dropbear/host_key 2>/dev/null
say "AGENTFLEET HOSTKEY ($src) $(cut -d' ' -f1,2 $K.pub)"
say "AGENTFLEET READY $(hostname) $(ip -4 -o addr show eth0 | awk '{print $4}')"
exec setsid cttyhack sh -c 'while :; do sh; done' </dev/console >/dev/console 2>&1
EOF
chmod +x "$R/init" "$R/etc/udhcpc.sh" "$R/usr/bin/sudo" "$R/usr/bin/nixos-rebuild" "$R/etc/acpi/PWRF/00000080"
(cd "$R" && find . | cpio -o -H newc --quiet) | gzip -6 > "$W/initrd.img"
cp "$W/kpkg/boot/vmlinuz-$KVER" "$W/vmlinuz"

# 4. BIOS-bootable disk: FAT16 "superfloppy" with syslinux (mtools, no loop mount needed). The kernel console ends
# on ttyS0 so init's messages land in the serial log.
# no_timer_check: under TCG on a loaded host the kernel's IO-APIC timer check can fail and panic at boot
# ("IO-APIC + timer doesn't work"), seen several times while other VMs kept both cores busy.
truncate -s 160M "$W/disk.raw"; mkfs.fat -n AGENTVM "$W/disk.raw" >/dev/null; syslinux --install "$W/disk.raw"
printf 'DEFAULT linux\nTIMEOUT 0\nLABEL linux\n KERNEL /vmlinuz\n APPEND initrd=/initrd.img console=tty0 console=ttyS0 quiet no_timer_check\n' \
  > "$W/syslinux.cfg"
mcopy -i "$W/disk.raw" "$W/vmlinuz" "$W/initrd.img" "$W/syslinux.cfg" ::/
mcopy -s -i "$W/disk.raw" "$NX" ::/
qemu-img convert -f raw -O qcow2 "$W/disk.raw" "$W/base.qcow2"

for f in vmlinuz initrd.img base.qcow2; do mv "$W/$f" "$OUT/$f"; done
echo "$STAMP" > "$OUT/.stamp"
echo "test image built: $OUT/base.qcow2 ($(du -h "$OUT/base.qcow2" | cut -f1), kernel $KVER)"
