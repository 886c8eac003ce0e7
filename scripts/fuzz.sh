#!/usr/bin/env bash
# Runs the libFuzzer targets of the wire codec with AddressSanitizer.
#
#   scripts/fuzz.sh SECONDS [TARGET ...]     default targets: FuzzFrames FuzzRows FuzzRequests
#
# Each target is built with `--sanitize fuzzer -Xswiftc -sanitize=fuzzer,address` (the combination that
# keeps coverage instrumentation; see docs/fuzzing.md), seeded from Fuzz/Corpus/<target>/ (committed, made
# from the golden vectors by scripts/make-fuzz-seeds.py) and run for SECONDS. New inputs go to
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

scratch=.build-fuzz
for target in "${targets[@]}"; do
    swift build -c debug --product "$target" --sanitize fuzzer -Xswiftc -sanitize=fuzzer,address \
        --scratch-path "$scratch" 2>&1 | grep -vE 'Cannot export local symbol|^\[' || true
    [ -x "$scratch/debug/$target" ] || { echo "fuzz: $target did not build" >&2; exit 1; }
done

status=0
for target in "${targets[@]}"; do
    corpus="$scratch/corpus/$target"
    artifacts="$scratch/artifacts/$target/"
    mkdir -p "$corpus" "$artifacts"
    echo "fuzz: $target for ${seconds}s (seeds: $(ls Fuzz/Corpus/$target 2>/dev/null | wc -l))"
    log="$scratch/$target.log"
    if "$scratch/debug/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=70000 \
        -print_final_stats=1 -artifact_prefix="$artifacts" "$corpus" "Fuzz/Corpus/$target" >"$log" 2>&1; then
        grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added)|cov: ' "$log" | tail -4 | sed "s/^/fuzz: $target: /"
    else
        status=1
        echo "fuzz: $target FAILED; reproducer in $artifacts" >&2
        grep -E 'ERROR|SUMMARY|Fatal error|==[0-9]+==' "$log" | head -20 >&2 || tail -30 "$log" >&2
    fi
done
exit $status
