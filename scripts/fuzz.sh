#!/usr/bin/env bash
# Runs the libFuzzer targets of the wire codec with AddressSanitizer.
#
#   scripts/fuzz.sh SECONDS [TARGET ...]     default targets: FuzzFrames FuzzRows FuzzRequests
#
# Each target is built with `--sanitize fuzzer -Xswiftc -sanitize=fuzzer,address` (the combination that
# keeps coverage instrumentation; see docs/fuzzing.md), seeded from Fuzz/Corpus/<target>/ (committed, made
# from the golden vectors by scripts/make-fuzz-seeds.py), optimized (release, -O), and run for SECONDS and then on
# until it has executed MIN_RUNS inputs (default 1,000,000), whichever is later. New inputs go to
# .build-fuzz/corpus/<target>/ (not committed). Exits non-zero if any target finds a crash, a leak,
# a timeout or an out-of-memory; the reproducer is left in .build-fuzz/artifacts/<target>/.
#
# `-sanitize=fuzzer` links libFuzzer's runtime from the toolchain (libclang_rt.fuzzer-<arch>.a under
# <runtimeResourcePath>/clang/lib/). swift.org's x86_64 toolchains ship it. On any other architecture (e.g. a native
# arm64 CI runner) the script looks for it first: if this toolchain has none, it says so and exits 0 without
# fuzzing. On x86_64 a missing runtime is an error.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:?usage: scripts/fuzz.sh SECONDS [TARGET ...]}
shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(FuzzFrames FuzzRows FuzzRequests)

arch=$(uname -m)
resources=$(swiftc -print-target-info | sed -n 's/^ *"runtimeResourcePath": "\(.*\)",\{0,1\}$/\1/p' | head -1)
fuzzer_runtime=$(compgen -G "$resources/clang/lib/linux/libclang_rt.fuzzer-$arch.a" ||
    compgen -G "$resources/clang/lib/$arch-*linux*/libclang_rt.fuzzer.a" || true)
if [ -z "$fuzzer_runtime" ]; then
    if [ "$arch" = x86_64 ]; then
        echo "fuzz: this toolchain has no libFuzzer runtime for x86_64 under $resources/clang/lib" >&2
        exit 1
    fi
    echo "fuzz: skipped on $arch: this toolchain ships no libFuzzer runtime for $arch" \
        "(no libclang_rt.fuzzer under ${resources:-<unknown resource dir>}/clang/lib); the x86_64 run fuzzes"
    exit 0
fi
echo "fuzz: libFuzzer runtime $fuzzer_runtime"

# Optimized (-O, release configuration) with AddressSanitizer: a debug build ran ~400 inputs/s, too few to search.
# Each target runs SECONDS, then on until it has executed MIN_RUNS inputs (default 1,000,000): whichever is later.
# Inputs up to FUZZ_MAX_LEN bytes (default 4096): the targets feed the decoder in 1–17-byte chunks, so 70 KB inputs
# ran at ~800/s even optimized; 4 KB inputs run ~10x faster and still carry any header (a 1 MiB length included).
min_runs=${MIN_RUNS:-1000000}
scratch=.build-fuzz
for target in "${targets[@]}"; do
    swift build -c release --product "$target" --sanitize fuzzer -Xswiftc -sanitize=fuzzer,address \
        --scratch-path "$scratch" 2>&1 | grep -vE 'Cannot export local symbol|^\[' || true
    [ -x "$scratch/release/$target" ] || { echo "fuzz: $target did not build" >&2; exit 1; }
done

# Runs one libFuzzer session of TARGET with extra flags; appends its log to LOG. Returns libFuzzer's status.
run_fuzzer() {
    local target=$1 log=$2
    shift 2
    "$scratch/release/$target" "$@" -timeout=10 -rss_limit_mb=2048 -max_len="${FUZZ_MAX_LEN:-4096}" -print_final_stats=1 \
        -artifact_prefix="$scratch/artifacts/$target/" "$scratch/corpus/$target" "Fuzz/Corpus/$target" >>"$log" 2>&1
}

# The executions a log's sessions add up to.
executed() { sed -n 's/^stat::number_of_executed_units: *//p' "$1" | awk '{ n += $1 } END { print n + 0 }'; }

status=0
for target in "${targets[@]}"; do
    corpus="$scratch/corpus/$target"
    artifacts="$scratch/artifacts/$target/"
    mkdir -p "$corpus" "$artifacts"
    echo "fuzz: $target for ${seconds}s (seeds: $(ls Fuzz/Corpus/$target 2>/dev/null | wc -l))"
    log="$scratch/$target.log"
    : >"$log"
    started=$(date +%s)
    ok=1
    run_fuzzer "$target" "$log" -max_total_time="$seconds" || ok=0
    done_runs=$(executed "$log")
    if [ "$ok" = 1 ] && [ "$done_runs" -lt "$min_runs" ]; then
        run_fuzzer "$target" "$log" -runs=$((min_runs - done_runs)) || ok=0
        done_runs=$(executed "$log")
    fi
    elapsed=$(($(date +%s) - started))
    if [ "$ok" = 1 ]; then
        grep -E 'cov: ' "$log" | tail -1 | sed "s/^/fuzz: $target: /"
        echo "fuzz: $target: $done_runs executions in ${elapsed}s ($((done_runs / (elapsed > 0 ? elapsed : 1))) per second)"
    else
        status=1
        echo "fuzz: $target FAILED; reproducer in $artifacts" >&2
        grep -E 'ERROR|SUMMARY|Fatal error|==[0-9]+==' "$log" | head -20 >&2 || tail -30 "$log" >&2
    fi
done
exit $status
