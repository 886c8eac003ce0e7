#!/usr/bin/env bash
# Runs every test of swift-dqlite (the README's test command; .ci/run calls it).
#
#   bash scripts/test.sh
#
# 1. installs the Debian packages it needs, 2. checks formatting and lints the hosted workflow
#    (scripts/lint-workflows.sh: actionlint), 3. builds everything and the DocC documentation of the public
#    modules with warnings as errors (scripts/docs.sh), 4. runs the Swift Testing suites,
# 5. runs the fault-injection smoke (scripts/faults.sh: node processes under kill -9, SIGSTOP, proxy faults; a
#    hostile server),
# 6. fuzzes every libFuzzer target (FUZZ_SECONDS each, default 60) with AddressSanitizer,
# 7. proves byte-identical encoding on arm64 (Swift 6.0.3 under qemu) and amd64 (scripts/test-arm64.sh),
# 8. runs a mixed amd64/arm64 cluster with clients on both architectures (scripts/mixed-arch.sh).
# On an aarch64 host (the hosted CI's arm64 leg) step 7 builds and checks the runner natively, step 8 is skipped,
# and step 6 is skipped if the toolchain has no libFuzzer runtime for aarch64 (each says so in the log).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
step() { printf '\n== %s (%ds)\n' "$*" $(( $(date +%s) - start )); }

step "dependencies"
bash scripts/install-deps.sh

step "format (swift format lint --strict)"
bash scripts/lint.sh

step "hosted workflow (actionlint)"
bash scripts/lint-workflows.sh

step "build"
swift build --build-tests

step "documentation (scripts/docs.sh: DocC of the public modules, warnings as errors)"
bash scripts/docs.sh

step "unit, golden, property, cluster and shell tests"
# Swift Testing runs every test at once by default; with dozens of real clusters on 2 cores that turns deadlines
# into a lottery. At most TEST_PARALLELISM tests run at a time (4: ~45 s here, against ~25 s unbounded).
SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH="${TEST_PARALLELISM:-4}" swift test --skip-build --skip DqliteFaultTests

step "example (Examples/dqlite-example: the DocC tour's code, run against its embedded node)"
example_out=$(timeout 120 "$(swift build --show-bin-path)/dqlite-example")
printf '%s\n' "$example_out"
for expected in "inserted row 1" "1 Ada pro" "users: 1" "leader "; do
    grep -q "^$expected" <<<"$example_out" || { echo "example: no line starting with \"$expected\"" >&2; exit 1; }
done

step "fault-injection and hostile-server smoke (scripts/faults.sh: each scenario once)"
bash scripts/faults.sh --no-doc --attached

step "fuzzing (${FUZZ_SECONDS:-60}s per target)"
bash scripts/fuzz.sh "${FUZZ_SECONDS:-60}"

step "arm64 + amd64 byte identity"
bash scripts/test-arm64.sh

step "mixed-architecture cluster (amd64 dqlite-node + arm64 dqlite-demo under qemu, arm64 Swift client)"
if [ "$(uname -m)" = x86_64 ]; then
    bash scripts/mixed-arch.sh
else
    echo "mixed-arch: skipped on $(uname -m): the script emulates arm64 nodes on an amd64 host"
fi

step "all tests passed"
