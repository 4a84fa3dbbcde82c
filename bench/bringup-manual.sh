#!/bin/sh
# bench/bringup-manual.sh URI KNOWN_HOSTS KEY BASE [DISK XML PORT]... -- the seeds' manual bring-up as a person
# would script it for several agents: each agent in its own background job (overlay on the base image with
# qemu-img, virsh define, virsh start, then ssh every second until it answers), then wait for all of them.
# First contact accepts the new host key (what a user answering "yes" does); a changed key would still be refused.
set -eu
URI=$1 KH=$2 KEY=$3 BASE=$4; shift 4
one() {
  qemu-img create -q -f qcow2 -F qcow2 -b "$BASE" "$1"
  NAME=$(virsh -c "$URI" define "$2" | sed -n "s/^Domain '\(.*\)' defined.*/\1/p")
  virsh -c "$URI" start "$NAME" >/dev/null
  until ssh -q -p "$3" -i "$KEY" -o IdentitiesOnly=yes -o BatchMode=yes -o ConnectTimeout=5 \
      -o UserKnownHostsFile="$KH" -o StrictHostKeyChecking=accept-new root@127.0.0.1 true 2>/dev/null; do
    sleep 1
  done
}
PIDS=
while [ $# -ge 3 ]; do
  one "$1" "$2" "$3" &
  PIDS="$PIDS $!"
  shift 3
done
for p in $PIDS; do wait "$p"; done
