#!/bin/sh
# bench/modules.sh DIR COMMAND... -- how many JavaScript modules (and from which packages) `fleet --dir DIR COMMAND`
# loads, counted from the files Node opens (strace). E.g. bench/modules.sh /path/to/fleet plan
# It runs the unbundled build (packages/cli/dist/cli.js): `fleet` itself runs one bundle of these modules
# (scripts/bundle-cli.mjs), where each still costs its evaluation, and a lazily loaded one nothing until used.
set -eu
DIR=$1; shift
MAIN=${MAIN:-$(dirname "$0")/../packages/cli/dist/cli.js}
T=$(mktemp)
trap 'rm -f "$T"' EXIT
strace -f -e trace=openat -o "$T" node "$MAIN" --dir "$DIR" "$@" >/dev/null || true
FILES=$(grep -v ENOENT "$T" | grep -oE '"[^"]+\.(js|mjs|cjs|node)"' | sort -u)
echo "fleet $*: $(echo "$FILES" | wc -l) modules"
echo "$FILES" | grep -oE 'node_modules/(@[^/]+/)?[^/]+' | sort | uniq -c | sort -rn
