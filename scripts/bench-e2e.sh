#!/usr/bin/env bash
# End-to-end benchmark, side by side (docs/benchmarks.md "End-to-end"): the Swift `Dqlite` client
# (Benchmarks/EndToEnd/Sources, product dqlite-e2e) and go-dqlite 1.11.5's driver through database/sql
# (Benchmarks/go/e2e), against ONE local cluster of this repository's `dqlite-node` processes (libdqlite 1.11.1),
# in rounds that alternate the two sides workload by workload; then Debian's `dqlite-benchmark` (kvwrite,
# kvreadwrite; it embeds its own go-dqlite node) alternated with the Swift equivalent; then a table with ratios.
#
#   bash scripts/bench-e2e.sh                  # 3 rounds of 5 s runs on a 1-node cluster, 2 dqlite-benchmark rounds
#   ROUNDS=5 DURATION=10 bash scripts/bench-e2e.sh
#   NODES=3 bash scripts/bench-e2e.sh          # a 3-node cluster (and 3-node dqlite-benchmark runs)
#   DIAGNOSTICS=1 bash scripts/bench-e2e.sh    # also: point-raw, --executor nio, --write-gate (see below)
#   ONLY="point scan" bash scripts/bench-e2e.sh   # only these cases (names as in the table)
#   NICE=-10 bash scripts/bench-e2e.sh         # run the nodes, both clients and dqlite-benchmark at nice -10 (root)
#   DQB_ROUNDS=0 bash scripts/bench-e2e.sh     # skip dqlite-benchmark;  DQB_DURATION=10 (s, whole seconds)
#   BENCH_OUT=DIR bash scripts/bench-e2e.sh    # keep everything in DIR (default: a new temp dir)
#
# Workloads (each run is one process printing one JSON line; see the two programs' headers):
#   point, point-prepared   sequential point selects on one connection (plain QUERY_SQL; prepared QUERY)
#   scan                    SELECT id, k, v FROM t10k (10,000 rows), decoded into (Int, String, String)
#   insert-w1, insert-w8    single-row autocommit inserts, 1 and 8 workers (committed rows/s, errors by kind)
#   kvwrite-wN, kvreadwrite-wN   dqlite-benchmark's workloads (32-byte keys, 1024-byte values), 1 and 8 workers
#   sqlite-scan             the in-process reference: libsqlite3 in the Swift process, same table, same decoding
#   scan-wire               the server's own streaming rate (raw socket, frames not decoded): the scan ceiling
#   DIAGNOSTICS=1 adds, Swift side: point-raw (a bare DqliteConnection), point/point-prepared/scan/insert-w1
#   with `--executor nio` (SwiftNIO's event loops as the global executor), point/point-prepared/insert-w1 with
#   `--executor loop` (the client's opt-in runsSessionsOnEventLoop), insert-w8 with `--serialize-writes` (the
#   client's opt-in serializesWrites queue), insert-w8 with `--write-gate`, scan
#   with TCP_QUICKACK re-armed before every read (Benchmarks/EndToEnd/quickack-preload.c, LD_PRELOAD; needs cc);
#   and scan-wire with TCP_QUICKACK (the server's streaming rate when the client ACKs at once).
#
# Needs: swift (release builds of dqlite-e2e and dqlite-node from the Benchmarks package, scratch path
# Benchmarks/.build-e2e), go + golang-github-canonical-go-dqlite-dev (GOPATH mode, offline), python3, and for the
# dqlite-benchmark rounds Debian's go-dqlite package and ../shared/tools/peers/run-dqlite-benchmark.sh (PEERS=…
# to point elsewhere; without it those rounds are skipped). Not part of scripts/test.sh: it takes 10–20 minutes.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${BENCH_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/bench-e2e.XXXXXX")}"
OUT="$(mkdir -p "$OUT" && cd "$OUT" && pwd)"
PEERS="${PEERS:-$ROOT/../shared/tools/peers}"
ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-5}"
NODES="${NODES:-1}"
DQB_ROUNDS="${DQB_ROUNDS:-2}"
DQB_DURATION="${DQB_DURATION:-10}"
DIAGNOSTICS="${DIAGNOSTICS:-0}"
SCRATCH="$ROOT/Benchmarks/.build-e2e"
RUN=()
if [ -n "${NICE:-}" ]; then RUN=(nice -n "$NICE"); fi
case "$NODES" in 1 | 3) ;; *) echo "NODES must be 1 or 3" >&2; exit 2 ;; esac
mkdir -p "$OUT/runs" "$OUT/logs" "$OUT/bin"

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
{
    echo "date: $(date -u +%FT%TZ)"
    echo "swift-dqlite: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" status --porcelain -- Sources 2>/dev/null | grep -q . && echo ' (Sources/ has uncommitted changes)')"
    swift --version 2>&1 | grep -m1 -i 'swift version'
    go version
    echo "go-dqlite: $(dpkg-query -W -f='${Version}' golang-github-canonical-go-dqlite-dev 2>/dev/null || echo '?')"
    echo "libdqlite: $(dpkg-query -W -f='${Version}' libdqlite-dev 2>/dev/null || echo '?'), libsqlite3: $(pkg-config --modversion sqlite3 2>/dev/null || echo '?')"
    echo "dqlite-benchmark: $(dpkg-query -W -f='${Version}' go-dqlite 2>/dev/null || echo '?')"
    lscpu | grep -E '^(Model name|CPU\(s\)|Thread\(s\) per core|Hypervisor vendor):' | sed 's/  */ /g'
    echo "nodes: $NODES; rounds: $ROUNDS x ${DURATION}s; dqlite-benchmark rounds: $DQB_ROUNDS x ${DQB_DURATION}s; nice: ${NICE:-0}"
    echo "loadavg at start: $(loadavg)"
} | tee "$OUT/env.txt"

# ---- build (before anything is measured) -------------------------------------------------------------------
echo "== building dqlite-e2e and dqlite-node (release, $SCRATCH) and the Go side (GOPATH mode)"
for product in dqlite-e2e dqlite-node; do
    swift build -c release --package-path "$ROOT/Benchmarks" --scratch-path "$SCRATCH" --product "$product" \
        >"$OUT/logs/build-$product.log" 2>&1 || { tail -40 "$OUT/logs/build-$product.log"; exit 1; }
done
SWIFT_E2E="$SCRATCH/release/dqlite-e2e"
NODE_BIN="$SCRATCH/release/dqlite-node"
(
    cd "$ROOT"
    GO111MODULE=off GOPATH=/usr/share/gocode CGO_ENABLED=0 GOCACHE="$OUT/gocache" GOFLAGS= \
        go build -o "$OUT/bin/e2e-go" ./Benchmarks/go/e2e
) >"$OUT/logs/build-go.log" 2>&1 || { cat "$OUT/logs/build-go.log"; exit 1; }
GO_E2E="$OUT/bin/e2e-go"
QUICKACK=""
if [ "$DIAGNOSTICS" = 1 ]; then
    cc -O2 -shared -fPIC -o "$OUT/bin/quickack-preload.so" "$ROOT/Benchmarks/EndToEnd/quickack-preload.c" -ldl
    QUICKACK="$OUT/bin/quickack-preload.so"
fi

# ---- the cluster -----------------------------------------------------------------------------------------------
NODE_PIDS=()
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
stop_cluster() {
    local pid
    for pid in "${NODE_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${NODE_PIDS[@]}"; do
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    NODE_PIDS=()
}
trap stop_cluster EXIT
ADDRESSES=()
for i in $(seq 1 "$NODES"); do
    port=$(free_port)
    ADDRESSES+=("127.0.0.1:$port")
    args=(--id "$i" --address "127.0.0.1:$port" --data-dir "$OUT/cluster/n$i")
    if [ "$i" -gt 1 ]; then args+=(--join "${ADDRESSES[0]}"); fi
    echo "+ dqlite-node ${args[*]}" | tee -a "$OUT/logs/cluster.cmd"
    "${RUN[@]}" "$NODE_BIN" "${args[@]}" >"$OUT/logs/node$i.log" 2>&1 &
    NODE_PIDS+=($!)
    for _ in $(seq 1 300); do
        grep -q '^READY' "$OUT/logs/node$i.log" && break
        grep -q '^FAILED' "$OUT/logs/node$i.log" && break
        kill -0 "${NODE_PIDS[-1]}" 2>/dev/null || break
        sleep 0.1
    done
    grep '^READY' "$OUT/logs/node$i.log" || { echo "node $i did not start:"; cat "$OUT/logs/node$i.log"; exit 1; }
done
CLUSTER=$(IFS=,; echo "${ADDRESSES[*]}")
echo "cluster: $CLUSTER" | tee -a "$OUT/env.txt"
"$SWIFT_E2E" --cluster "$CLUSTER" --workload setup | tee "$OUT/runs/setup.json"

# ---- one run ---------------------------------------------------------------------------------------------------
# run_one ROUND CASE SIDE COMMAND...: one process, one JSON line in runs/rROUND.CASE.SIDE.json (a failed run
# leaves its stderr in the .err file and no .json; the table marks it missing).
run_one() {
    local round=$1 case=$2 side=$3
    shift 3
    local file="$OUT/runs/r$round.$case.$side"
    if "${RUN[@]}" "$@" >"$file.out" 2>"$file.err"; then
        tail -n 1 "$file.out" >"$file.json"
        python3 - "$file.json" "$round" "$case" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
extra = [f"{k}={d[k]}" for k in ("busy_retries",) if k in d]
err = sum(d.get("errors", {}).values())
rate = d["rows_per_s"] if d["workload"] in ("scan", "sqlite-scan", "scan-wire") or d["workload"].startswith(("insert", "kvwrite")) else d["ops_per_s"]
print(f"  r{sys.argv[2]} {sys.argv[3]:<22} {d['side']:<7} {rate:>12,.0f}/s  p50 {d['p50_us']:>9,.1f} us  p99 {d['p99_us']:>10,.1f} us  errors {err} {' '.join(extra)}  load {d.get('loadavg')}")
EOF
    else
        echo "  r$round $case $side FAILED: $(tail -n 3 "$file.err" | tr '\n' ' ')"
    fi
}

# CASE|SWIFT ARGS|GO ARGS[|LD_PRELOAD for the Swift side] (an empty side is not run)
CASES=(
    "point|--workload point|-workload point"
    "point-prepared|--workload point-prepared|-workload point-prepared"
    "scan|--workload scan|-workload scan"
    "insert-w1|--workload insert --workers 1|-workload insert -workers 1"
    "insert-w8|--workload insert --workers 8|-workload insert -workers 8"
    "kvwrite-w1|--workload kvwrite --workers 1|-workload kvwrite -workers 1"
    "kvwrite-w8|--workload kvwrite --workers 8|-workload kvwrite -workers 8"
    "kvreadwrite-w1|--workload kvreadwrite --workers 1|-workload kvreadwrite -workers 1"
    "kvreadwrite-w8|--workload kvreadwrite --workers 8|-workload kvreadwrite -workers 8"
    "sqlite-scan|--workload sqlite-scan --sqlite-mode mem|"
    "sqlite-scan-wal|--workload sqlite-scan --sqlite-mode wal --sqlite-dir $OUT|"
    "scan-wire||-workload scan-wire"
)
if [ "$DIAGNOSTICS" = 1 ]; then
    CASES+=(
        "point-raw|--workload point-raw|"
        "point-nio|--workload point --executor nio|"
        "point-prepared-nio|--workload point-prepared --executor nio|"
        "scan-nio|--workload scan --executor nio|"
        "insert-w1-nio|--workload insert --workers 1 --executor nio|"
        "point-loop|--workload point --executor loop|"
        "point-prepared-loop|--workload point-prepared --executor loop|"
        "insert-w1-loop|--workload insert --workers 1 --executor loop|"
        "insert-w8-gate|--workload insert --workers 8 --write-gate|"
        "insert-w8-queue|--workload insert --workers 8 --serialize-writes|"
        "scan-quickack|--workload scan||$QUICKACK"
        "scan-wire-quickack||-workload scan-wire -quickack"
    )
fi

# ---- rounds: Swift and Go alternate workload by workload; odd rounds start with Swift, even rounds with Go ----
for round in $(seq 1 "$ROUNDS"); do
    echo "== round $round/$ROUNDS (load $(loadavg))"
    echo "round $round start: $(loadavg)" >>"$OUT/env.txt"
    for entry in "${CASES[@]}"; do
        IFS='|' read -r case swift_args go_args preload <<<"$entry"
        if [ -n "${ONLY:-}" ] && [[ " $ONLY " != *" $case "* ]]; then continue; fi
        sides=(swift go)
        if [ $((round % 2)) = 0 ]; then sides=(go swift); fi
        for side in "${sides[@]}"; do
            if [ "$side" = swift ] && [ -n "$swift_args" ]; then
                # shellcheck disable=SC2086
                run_one "$round" "$case" swift env ${preload:+LD_PRELOAD="$preload"} "$SWIFT_E2E" --cluster "$CLUSTER" \
                    $swift_args --duration "$DURATION"
            elif [ "$side" = go ] && [ -n "$go_args" ]; then
                # shellcheck disable=SC2086
                run_one "$round" "$case" go "$GO_E2E" -cluster "$CLUSTER" $go_args -duration "${DURATION}s"
            fi
        done
    done
    echo "round $round end: $(loadavg)" >>"$OUT/env.txt"
done

# ---- dqlite-benchmark (its own go-dqlite node, same shape) alternated with the Swift equivalent ----------------
DQB_SCRIPT="$PEERS/run-dqlite-benchmark.sh"
if [ "$DQB_ROUNDS" -gt 0 ] && { [ ! -f "$DQB_SCRIPT" ] || ! command -v dqlite-benchmark >/dev/null; }; then
    echo "== dqlite-benchmark rounds skipped: $DQB_SCRIPT or dqlite-benchmark not found"
    DQB_ROUNDS=0
fi
ports_free() {
    local p
    for p in 9101 9102 9103; do
        if ss -Hltn "sport = :$p" 2>/dev/null | grep -q .; then return 1; fi
    done
}
for round in $(seq 1 "$DQB_ROUNDS"); do
    echo "== dqlite-benchmark round $round/$DQB_ROUNDS (load $(loadavg))"
    echo "dqlite-benchmark round $round start: $(loadavg)" >>"$OUT/env.txt"
    for wl in kvwrite kvreadwrite; do
        for workers in 1 8; do
            case="dqb-$wl-w$workers"
            order=(dqb swift)
            if [ $((round % 2)) = 0 ]; then order=(swift dqb); fi
            for side in "${order[@]}"; do
                if [ "$side" = swift ]; then
                    run_one "$round" "$case" swift "$SWIFT_E2E" --cluster "$CLUSTER" --workload "$wl" \
                        --workers "$workers" --duration "$DQB_DURATION"
                    continue
                fi
                for _ in $(seq 1 60); do ports_free && break; sleep 1; done
                if ! ports_free; then
                    echo "  r$round $case dqlite-benchmark SKIPPED: 127.0.0.1:9101-9103 in use"
                    continue
                fi
                tag="e2e-r$round-$wl-w$workers"
                if PEERS_DIR="$OUT/peers" "${RUN[@]}" bash "$DQB_SCRIPT" "$NODES" "$wl" "$DQB_DURATION" "$tag" \
                    "$workers" >"$OUT/runs/r$round.$case.dqb.out" 2>&1; then
                    python3 "$PEERS/summarize_bench.py" "$OUT/peers/data/bench/$tag/127.0.0.1:9101/results" \
                        "$DQB_DURATION" >"$OUT/runs/r$round.$case.dqb.json"
                    echo "  r$round $case dqlite-benchmark: $(cat "$OUT/runs/r$round.$case.dqb.json")"
                else
                    echo "  r$round $case dqlite-benchmark FAILED: $(tail -n 3 "$OUT/runs/r$round.$case.dqb.out" | tr '\n' ' ')"
                fi
            done
        done
    done
    echo "dqlite-benchmark round $round end: $(loadavg)" >>"$OUT/env.txt"
done

stop_cluster
echo "loadavg at end: $(loadavg)" | tee -a "$OUT/env.txt"
echo
python3 "$ROOT/scripts/bench_e2e_table.py" "$OUT" | tee "$OUT/table.md"
echo
echo "outputs: $OUT (env.txt, runs/rN.CASE.SIDE.json, logs/, table.md)"
