#!/usr/bin/env bash
# Builds the DocC documentation of the public library modules (Dqlite with its catalog in
# Sources/Dqlite/Dqlite.docc; DqliteWire, DqliteWireJSON and DqliteServer from their doc comments) with
# warnings treated as errors, so a broken symbol link or an undocumented parameter fails (scripts/test.sh runs it
# after the build).
#
#   bash scripts/docs.sh            # check only (output in a temporary directory, removed afterwards)
#   DOCS_OUT=DIR bash scripts/docs.sh   # keep the .doccarchive folders in DIR
#
# Symbol graphs come from `swift package dump-symbol-graph` (it reuses the debug build); `docc` ships with the
# toolchain.
set -euo pipefail
cd "$(dirname "$0")/.."
MODULES=(Dqlite DqliteWire DqliteWireJSON DqliteServer)
work=$(mktemp -d "${TMPDIR:-/tmp}/dqlite-docs.XXXXXX")
trap 'rm -rf "$work"' EXIT
out=${DOCS_OUT:-$work/out}
mkdir -p "$out"

swift package dump-symbol-graph --minimum-access-level public >"$work/dump.log" 2>&1 || {
    cat "$work/dump.log" >&2
    exit 1
}
graphs=$(sed -n 's/^Files written to //p' "$work/dump.log" | tail -1)
[ -d "$graphs" ] || { echo "docs: no symbol graph folder in the dump-symbol-graph output" >&2; exit 1; }

for module in "${MODULES[@]}"; do
    mkdir -p "$work/graphs/$module"
    cp "$graphs/$module.symbols.json" "$work/graphs/$module/"
    cp "$graphs/$module"@*.symbols.json "$work/graphs/$module/" 2>/dev/null || true
    catalog="Sources/$module/$module.docc"
    if [ ! -d "$catalog" ]; then
        catalog="$work/catalogs/$module.docc"
        mkdir -p "$catalog"
    fi
    if ! docc convert "$catalog" --additional-symbol-graph-dir "$work/graphs/$module" \
        --output-path "$out/$module.doccarchive" --fallback-display-name "$module" \
        --fallback-bundle-identifier "dqlite.$module" --warnings-as-errors >"$work/$module.log" 2>&1; then
        cat "$work/$module.log" >&2
        echo "docs: $module: DocC reported warnings or errors (above)" >&2
        exit 1
    fi
    echo "docs: $module: built with no warnings"
done
