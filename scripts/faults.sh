#!/usr/bin/env bash
# Runs the fault-injection suite (Tests/DqliteFaultTests) and writes its figures into docs/reliability.md.
#
#   bash scripts/faults.sh                   # smoke: every scenario once (~3 minutes); the CI run
#   bash scripts/faults.sh --duration 300    # repeat the nemesis schedule for 300 s
#   bash scripts/faults.sh --soak            # 30 minutes (--duration 1800)
#
# Options:
#   --duration SECONDS   how long the nemesis schedule runs (0 = smoke)
#   --soak               --duration 1800
#   --latency MS         the nodes' --network-latency-ms (default 15)
#   --label TEXT         the run's name in the report
#   --no-doc             do not touch docs/reliability.md (figures stay in .build/fault-results/)
#   --detached           build, then run a copy of the test bundle (default for --duration runs: a long run then
#                        neither holds SwiftPM's lock on .build nor breaks when someone rebuilds); --attached: swift test
#
# The suite writes .build/fault-results/results.{json,md}; this script splices results.md into
# docs/reliability.md between the markers of the run kind: "smoke" for smoke runs, "extended" for any
# --duration run (the soak is the extended run of at least 30 minutes).
set -euo pipefail
cd "$(dirname "$0")/.."

duration=0
detached=""
latency=15
label=""
doc=1
while [ $# -gt 0 ]; do
    case "$1" in
        --duration) duration="$2"; shift 2 ;;
        --soak) duration=1800; shift ;;
        --latency) latency="$2"; shift 2 ;;
        --label) label="$2"; shift 2 ;;
        --no-doc) doc=0; shift ;;
        --detached) detached=1; shift ;;
        --attached) detached=0; shift ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        *) echo "unknown option: $1" >&2; exit 2 ;;
    esac
done
case "$duration" in ''|*[!0-9]*) echo "--duration takes whole seconds" >&2; exit 2 ;; esac
# Extended runs default to --detached (see below); the smoke run is a plain `swift test`.
[ -n "$detached" ] || { [ "$duration" -gt 0 ] && detached=1 || detached=0; }

kind=smoke
if [ "$duration" -gt 0 ]; then
    kind=extended
    [ -n "$label" ] || label="$((duration / 60)) min (--duration $duration)"
    [ "$duration" -ge 1800 ] && label="soak, $label"
fi
[ -n "$label" ] || label="smoke"

results="$PWD/.build/fault-results"
rm -rf "$results"
mkdir -p "$results"

# Node processes are killed by the suite; if the test process itself dies, reap what it left: the suite lists
# its cluster directories in $results/clusters.txt and writes a pid file per node (killed by pid, only if that
# process still runs with that directory on its command line).
cleanup() {
    [ -f "$results/clusters.txt" ] || return 0
    while read -r dir; do
        [ -d "$dir" ] || continue
        for pidfile in "$dir"/*.pid; do
            [ -f "$pidfile" ] || continue
            pid=$(cat "$pidfile")
            if [ -n "$pid" ] && tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$dir"; then
                kill -CONT "$pid" 2>/dev/null || true
                kill -KILL "$pid" 2>/dev/null || true
            fi
        done
        rm -rf "$dir"
    done < "$results/clusters.txt"
}
trap cleanup EXIT

export DQLITE_FAULT_DURATION="$duration" DQLITE_FAULT_LATENCY_MS="$latency" DQLITE_FAULT_RESULTS="$results" \
    DQLITE_FAULT_LABEL="$label"
status=0
if [ "$detached" = 1 ]; then
    # Long runs: build, then run copies of the test bundle and of dqlite-node, so that the run neither holds
    # SwiftPM's lock on .build for its whole length nor breaks when someone rebuilds meanwhile.
    swift build --build-tests
    bin=$(swift build --show-bin-path)
    copy=$(mktemp -d /tmp/swift-dqlite-faults-run-XXXXXX)
    trap 'cleanup; rm -rf "$copy"' EXIT
    cp "$bin/swift-dqlitePackageTests.xctest" "$bin/dqlite-node" "$copy/"
    DQLITE_NODE_BINARY="$copy/dqlite-node" "$copy/swift-dqlitePackageTests.xctest" --testing-library swift-testing \
        --filter DqliteFaultTests || status=$?
else
    swift build --product dqlite-node
    swift test --filter DqliteFaultTests || status=$?
fi

if [ ! -f "$results/results.md" ]; then
    echo "the suite wrote no results (exit $status)" >&2
    exit $(( status == 0 ? 1 : status ))
fi

if [ "$doc" = 1 ]; then
    python3 - "$results/results.md" docs/reliability.md "$kind" <<'EOF'
import sys
figures, doc, kind = sys.argv[1], sys.argv[2], sys.argv[3]
begin, end = f"<!-- figures:{kind}:begin -->", f"<!-- figures:{kind}:end -->"
text = open(doc).read()
if begin not in text or end not in text:
    sys.exit(f"{doc} lacks the markers {begin} / {end}")
head, rest = text.split(begin, 1)
_, tail = rest.split(end, 1)
open(doc, "w").write(head + begin + "\n" + open(figures).read().strip() + "\n" + end + tail)
print(f"{doc}: {kind} figures updated")
EOF
fi
exit "$status"
