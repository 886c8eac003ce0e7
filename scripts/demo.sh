#!/usr/bin/env bash
# The README's main job. Today: the wire dissector decodes a bundled capture of a real dqlite session
# (both directions). It becomes the dqlite-shell on an embedded node once that lands.
#
#   bash scripts/demo.sh                      # the bundled sample capture
#   bash scripts/demo.sh client FILE          # any capture of your own (client or server side)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build --product dqlite-wire >/dev/null
if [ $# -ge 2 ]; then
    exec .build/debug/dqlite-wire decode --direction "$1" "$2"
fi
capture=Tests/DqliteWireTests/Captures/sample
echo "# client → server ($capture.client.bin)"
.build/debug/dqlite-wire decode --direction client "$capture.client.bin"
echo
echo "# server → client ($capture.server.bin)"
.build/debug/dqlite-wire decode --direction server "$capture.server.bin"
