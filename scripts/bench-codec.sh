#!/usr/bin/env bash
# Codec benchmarks side by side: go-dqlite 1.11.5's own codec and DqliteWire, on the same bytes
# (Benchmarks/Inputs/*.hex), in one run, then a table with the ratios (docs/benchmarks.md).
#
#   bash scripts/bench-codec.sh                  # 2 rounds of (go-dqlite -count 5, Swift timings), then
#                                                # the Swift malloc counts; Go runs and Swift iterations
#                                                # are pooled over the rounds
#   ROUNDS=1 COUNT=1 bash scripts/bench-codec.sh # quick
#   COUNT=10 bash scripts/bench-codec.sh         # more Go runs per round
#   BENCH_OUT=DIR bash scripts/bench-codec.sh    # keep every output in DIR (default: a new temp dir)
#   GOBENCH=/path/to/run.sh bash scripts/bench-codec.sh
#   SKIP_GO=1 bash scripts/bench-codec.sh        # Swift side only
#   NICE=-10 bash scripts/bench-codec.sh         # run both sides' measurements at that nice level (root):
#                                                # less preemption by other work on a shared machine
#
# The Go side is ../shared/tools/gobench/run.sh (outside this repository: it builds go-dqlite's codec
# benchmark from Debian's golang-go and golang-github-canonical-go-dqlite-dev, installing them with apt if
# needed, and checks that go-dqlite's encoder reproduces the input bytes). Without it, only the Swift side
# runs and the table has no ratios. Not part of scripts/test.sh: it takes minutes (a first build of the
# Benchmarks package takes 2–6 minutes, twice; then about 1 for Go and 1.5 for Swift).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${BENCH_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/bench-codec.XXXXXX")}"
GOBENCH="${GOBENCH:-$ROOT/../shared/tools/gobench/run.sh}"
COUNT="${COUNT:-5}"
ROUNDS="${ROUNDS:-2}"
FILTER='(decode|encode)\..*'  # whole-name regex (the plugin uses wholeMatch)
RUN=""
if [ -n "${NICE:-}" ]; then RUN="nice -n $NICE"; fi
mkdir -p "$OUT"

{
    echo "date: $(date -u +%FT%TZ)"
    echo "swift-dqlite: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" status --porcelain -- Sources/DqliteWire 2>/dev/null | grep -q . && echo ' (Sources/DqliteWire modified)')"
    swift --version 2>&1 | head -1
    lscpu | grep -E '^(Model name|CPU\(s\)|Thread\(s\) per core|Hypervisor vendor):' | sed 's/  */ /g'
    echo "nice: ${NICE:-0} (both sides' measurements)"
    echo "loadavg at start: $(cat /proc/loadavg)"
} | tee "$OUT/env.txt"

# Build first, so that no compilation overlaps either side's measurements. Two builds: the default one
# (Benchmarks/.build) with the malloc-counting interposer, for the malloc counts; and one without it
# (Benchmarks/.build-timing), for the timings: the plugin preloads the interposer into every run when it
# is built, and its malloc/free wrappers cost the decode benchmarks 13–22 ns per row, a cost that
# go-dqlite's timed loop does not pay (see Benchmarks/Package.swift).
TIMING=(env WIRE_BENCH_NO_MALLOC_INTERPOSER=1)
TIMING_SCRATCH="$ROOT/Benchmarks/.build-timing"
echo "== building the Swift benchmarks (release; twice, with and without the malloc interposer)"
swift package --package-path "$ROOT/Benchmarks" benchmark list >"$OUT/swift-build.log" 2>&1 \
    || { cat "$OUT/swift-build.log"; exit 1; }
"${TIMING[@]}" swift package --package-path "$ROOT/Benchmarks" --scratch-path "$TIMING_SCRATCH" benchmark list \
    >"$OUT/swift-build-timing.log" 2>&1 || { cat "$OUT/swift-build-timing.log"; exit 1; }

# Each round: go-dqlite, then the Swift timings, so that both sides sample the same spells of other work.
swift_bench() {
    local out="$1"; shift
    echo "== DqliteWire: $* --filter '$FILTER' --no-progress"
    echo "loadavg before swift $out: $(cat /proc/loadavg)" | tee -a "$OUT/env.txt"
    $RUN "$@" --filter "$FILTER" --no-progress >"$OUT/$out" 2>"$OUT/$out.err" \
        || { cat "$OUT/$out.err" "$OUT/$out"; exit 1; }
    echo "loadavg after swift $out: $(cat /proc/loadavg)" | tee -a "$OUT/env.txt"
}
GO_RESULTS=()
SWIFT_RESULTS=()
if [ -n "${SKIP_GO:-}" ]; then
    echo "== go-dqlite side skipped (SKIP_GO set)"
elif [ ! -f "$GOBENCH" ]; then
    echo "== go-dqlite side skipped: $GOBENCH not found (set GOBENCH=…/gobench/run.sh); Swift figures only"
fi
for round in $(seq 1 "$ROUNDS"); do
    if [ -z "${SKIP_GO:-}" ] && [ -f "$GOBENCH" ]; then
        echo "== round $round: go-dqlite 1.11.5 codec benchmark: $GOBENCH (COUNT=$COUNT)"
        echo "loadavg before go $round: $(cat /proc/loadavg)" | tee -a "$OUT/env.txt"
        COUNT="$COUNT" GOBENCH_OUT="$OUT/go$round" $RUN bash "$GOBENCH" >"$OUT/go$round.log" 2>&1 \
            || { cat "$OUT/go$round.log"; exit 1; }
        grep -E '^Benchmark(Decode|Encode)' "$OUT/go$round/results/bench.txt" || true
        echo "loadavg after go $round: $(cat /proc/loadavg)" | tee -a "$OUT/env.txt"
        GO_RESULTS+=(--go "$OUT/go$round/results/bench.txt")
    fi
    # Timings from the build without the interposer, exported as JMH JSON (every measured iteration, so
    # that the table can take percentiles and the mean, pooled over the rounds).
    echo "== round $round: DqliteWire timings"
    swift_bench "swift-time$round.json" "${TIMING[@]}" swift package --package-path "$ROOT/Benchmarks" \
        --scratch-path "$TIMING_SCRATCH" benchmark --metric wallClock --metric throughput --format jmh --path stdout
    SWIFT_RESULTS+=(--swift-jmh "$OUT/swift-time$round.json")
done
# The malloc counts (raw, per 1000 rows or frames: --scale), with the wall clock again, this time with the
# interposer preloaded, for reference.
swift_bench swift-malloc.txt swift package --package-path "$ROOT/Benchmarks" \
    benchmark --metric mallocCountTotal --metric wallClock --scale

echo
python3 "$ROOT/scripts/bench_codec_table.py" "${SWIFT_RESULTS[@]}" --swift "$OUT/swift-malloc.txt" \
    "${GO_RESULTS[@]}" | tee "$OUT/table.md"
echo
echo "outputs: $OUT (env.txt, goN.log, goN/results/, swift-timeN.json, swift-malloc.txt, table.md)"
