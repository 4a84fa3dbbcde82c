#!/usr/bin/env bash
# demo.sh -- on a fresh Debian 12 machine (as root): set everything up (scripts/setup.sh), then bring up the
# demo fleet in examples/demo (two tiny agents on the project's test image) and show its status.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
fleet() { node packages/cli/dist/main.js --dir examples/demo "$@"; }
echo "==> fleet plan"; fleet plan
echo "==> fleet up";   fleet up
echo "==> fleet status"; fleet status
cat <<'TXT'

The demo fleet is up. Next steps (from the repository root):
  node packages/cli/dist/main.js --dir examples/demo ssh alpha -- uname -a   # a command on agent alpha
  ssh -F ~/.agentvms-demo/ssh_config alpha                                  # plain ssh, pinned host key
  node packages/cli/dist/main.js --dir examples/demo spice alpha --print     # SPICE URI (remote-viewer)
  node packages/cli/dist/main.js --dir examples/demo down                    # ACPI shutdown, disks stay
  node packages/cli/dist/main.js --dir examples/demo destroy alpha beta --purge --yes
TXT
