#!/bin/sh
# bench/bringup-manual.sh URI KNOWN_HOSTS KEY BASE [DISK XML PORT]... -- the seeds' manual bring-up,
# one agent after another: cp the base image, virsh define, virsh start, then try ssh every 2 s
# until it answers. First contact accepts the new host key (what a user answering "yes" does);
# a changed key would still be refused.
set -eu
URI=$1 KH=$2 KEY=$3 BASE=$4; shift 4
while [ $# -ge 3 ]; do
  DISK=$1 XML=$2 PORT=$3; shift 3
  cp "$BASE" "$DISK"
  NAME=$(virsh -c "$URI" define "$XML" | sed -n "s/^Domain '\(.*\)' defined.*/\1/p")
  virsh -c "$URI" start "$NAME" >/dev/null
  until ssh -q -p "$PORT" -i "$KEY" -o IdentitiesOnly=yes -o BatchMode=yes -o ConnectTimeout=5 \
      -o UserKnownHostsFile="$KH" -o StrictHostKeyChecking=accept-new root@127.0.0.1 true 2>/dev/null; do
    sleep 2
  done
done
