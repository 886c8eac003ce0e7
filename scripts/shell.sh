#!/usr/bin/env bash
# The README's main job: dqlite-shell on an embedded single dqlite node (data kept under
# ~/.local/state/dqlite-shell), built from this checkout. Installs the Debian packages it needs first.
#
#   bash scripts/shell.sh                          # interactive (line editing, history, Ctrl-C, Ctrl-D)
#   bash scripts/shell.sh --memory                 # a throwaway node
#   bash scripts/shell.sh -c "SELECT 1; SELECT 2"  # one-shot
#   bash scripts/shell.sh --servers 10.0.0.1:9001  # a cluster instead of the embedded node
#   bash scripts/shell.sh --help
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build --product dqlite-shell >&2
exec .build/debug/dqlite-shell "$@"
