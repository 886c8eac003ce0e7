#!/usr/bin/env bash
# scripts/test-arm64.sh — prove that the dqlite wire codec encodes byte-identically on arm64 and amd64.
#
# 1. Cross-compiles Sources/{DqliteWire,DqliteWireJSON,DqliteWireTestSupport,dqlite-wire-golden} for
#    aarch64-unknown-linux-gnu with Debian trixie's Swift 6.0.3 (run from a cached trixie amd64 tree via
#    chroot, because it needs glibc >= 2.38) against a cached trixie arm64 sysroot, links with lld, and runs
#    the result under qemu-aarch64-static.
# 2. Builds the same runner natively for amd64 with the toolchain on PATH
#    (`swift build -c release --product dqlite-wire-golden`) and runs it.
# 3. Fails unless both runs report their real architecture, pass every golden vector
#    (Tests/DqliteWireTests/Golden/*.json, both ways), and print the same digest of a 100,000-message corpus.
#
# Needs root (mmdebstrap, chroot, mount namespaces), an x86_64 Debian/Ubuntu host, and Debian's archive
# (deb.debian.org or DEBIAN_MIRROR); installs qemu-user-static and mmdebstrap with apt itself. The toolchain
# and sysroot (~3 GB) are cached outside the repository, so only the first run takes minutes.
# On an aarch64 host (e.g. a native arm64 CI runner) there is nothing to emulate: the script only builds and
# runs the runner natively (no root needed) and prints its digest, for comparison with an amd64 run.
# Details, timings and pitfalls: docs/multi-arch.md.
#
# Usage (as root):  bash scripts/test-arm64.sh
# Exit status: 0 = proof passed, 1 = a check failed (golden vector, round trip, digest mismatch, compile
# error), 2 = setup error.
#
# Environment (all optional):
#   SWIFT_ARM64_CACHE        cache directory (default /var/cache/swift-arm64); one run at a time (flock)
#   SWIFT_ARM64_LOCK_TIMEOUT seconds to wait for another run's cache lock (default 1800)
#   DQLITE_GOLDEN_DIR        golden vector folder (default Tests/DqliteWireTests/Golden)
#   DQLITE_SOURCES_DIR       Sources folder to build from (default Sources). When it is not the repository's
#                            own, the amd64 runner is built with swiftc directly (SwiftPM cannot be pointed at
#                            another Sources folder), the same way as the arm64 one.
#   DQLITE_CORPUS_MESSAGES   corpus size (default 100000)
#   DQLITE_ARM64_REBUILD=1   rebuild the arm64 runner even if sources, compiler and flags are unchanged
#   DEBIAN_MIRROR            default http://deb.debian.org/debian
#   SWIFT_ARM64_SUITE        Debian suite providing Swift 6.0.3 (default trixie)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${SWIFT_ARM64_CACHE:-/var/cache/swift-arm64}
LOCK_TIMEOUT=${SWIFT_ARM64_LOCK_TIMEOUT:-1800}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=${SWIFT_ARM64_SUITE:-trixie}
SOURCES=${DQLITE_SOURCES_DIR:-$REPO/Sources}
GOLDEN=${DQLITE_GOLDEN_DIR:-$REPO/Tests/DqliteWireTests/Golden}
MESSAGES=${DQLITE_CORPUS_MESSAGES:-100000}
MODULES=(DqliteWire DqliteWireJSON DqliteWireTestSupport)   # in dependency order
RUNNER=dqlite-wire-golden

TC=$CACHE/toolchain-amd64   # trixie amd64 tree: swiftlang 6.0.3 + libc6-dev (run via chroot)
SR=$CACHE/sysroot-arm64     # trixie arm64 sysroot (only extracted; no arm64 code runs to build it)
WORK=$CACHE/work            # sources, module cache, build output (bind-mounted into $TC as /build)
APTD=$CACHE/apt             # private apt config/state, used only to fetch swiftlang:arm64
SWLIB=/usr/libexec/swift/lib

die() { echo "test-arm64.sh: $*" >&2; exit 2; }
case $(uname -m) in
  x86_64) NATIVE_ONLY=0; NATIVE_ARCH=amd64 ;;
  aarch64 | arm64) NATIVE_ONLY=1; NATIVE_ARCH=arm64 ;;
  *) die "unsupported host architecture $(uname -m)" ;;
esac
[ "$NATIVE_ONLY" = 1 ] || [ "$(id -u)" = 0 ] || die "must run as root (mmdebstrap, chroot, mount)"
SOURCES=$(cd "$SOURCES" 2>/dev/null && pwd) || die "no such sources folder: ${DQLITE_SOURCES_DIR:-}"
GOLDEN=$(cd "$GOLDEN" 2>/dev/null && pwd) || die "no such golden vector folder: ${DQLITE_GOLDEN_DIR:-}"
for m in "${MODULES[@]}" "$RUNNER"; do
  compgen -G "$SOURCES/$m/*.swift" >/dev/null || die "no Swift files in $SOURCES/$m"
done
case $MESSAGES in '' | *[!0-9]*) die "DQLITE_CORPUS_MESSAGES must be a number" ;; esac
command -v swift >/dev/null || die "no swift on PATH (needed for the native amd64 build)"

if [ "$NATIVE_ONLY" = 1 ]; then
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/dqlite-wire-golden.XXXXXX")   # no cache needed: nothing is emulated
  trap 'rm -rf "$WORK"' EXIT
else
  mkdir -p "$CACHE"
  exec 9>"$CACHE/.lock"   # one run per cache at a time: the toolchain, sysroot and work dirs are shared
  if ! flock -n 9; then
    echo "==> waiting for another run's lock on $CACHE (up to ${LOCK_TIMEOUT}s)"
    flock -w "$LOCK_TIMEOUT" 9 || die "timed out waiting for $CACHE/.lock"
  fi
fi

now_ms() { echo $(($(date +%s%N) / 1000000)); }
secs() { local ms=$(($(now_ms) - $1)); printf '%d.%01ds' $((ms / 1000)) $((ms % 1000 / 100)); }
T0=$(now_ms)
step() { # step NAME CMD... : run one step and print its wall-clock time
  local name=$1 t; shift; t=$(now_ms)
  echo "==> $name"
  "$@"
  echo "    [$name: $(secs "$t")]"
}

# --- 1.–3. host tools, the trixie Swift 6.0.3 toolchain tree and the arm64 sysroot ------------------------
# host_tools, in_toolchain, toolchain, sysroot and versions_match (shared with scripts/mixed-arch.sh)
# shellcheck source=lib/arm64-toolchain.sh
. "$REPO/scripts/lib/arm64-toolchain.sh"

# --- 4. builds --------------------------------------------------------------------------------------------
# Each library is compiled as its own module (whole-module, -O) into one object file plus its .swiftmodule;
# the runner imports them like SwiftPM does, and the objects are linked into one executable. The flags
# mirror Package.swift (Swift 6 language mode, ExistentialAny, MemberImportVisibility).
SWIFT_FLAGS=(-swift-version 6 -O -wmo -enable-upcoming-feature ExistentialAny
  -enable-upcoming-feature MemberImportVisibility)

# build_modules SRC OBJ OUT SWIFTC [FLAGS...]: SRC/OBJ/OUT are paths as the compiler sees them
build_modules() {
  local src=$1 obj=$2 out=$3; shift 3
  local swiftc=("$@") m f t files objects=()
  for m in "${MODULES[@]}"; do
    files=()
    for f in "$SOURCES/$m"/*.swift; do files+=("$src/$m/${f##*/}"); done
    t=$(now_ms)
    "${swiftc[@]}" -parse-as-library -module-name "$m" -I "$obj" \
      -emit-module -emit-module-path "$obj/$m.swiftmodule" -c "${files[@]}" -o "$obj/$m.o" || return
    echo "    swiftc $m (${#files[@]} files): $(secs "$t")"
    objects+=("$obj/$m.o")
  done
  files=()
  for f in "$SOURCES/$RUNNER"/*.swift; do files+=("$src/$RUNNER/${f##*/}"); done
  t=$(now_ms)
  "${swiftc[@]}" -module-name dqlite_wire_golden -I "$obj" "${files[@]}" "${objects[@]}" -o "$out" || return
  echo "    swiftc $RUNNER (${#files[@]} files) + link: $(secs "$t")"
}

stage_sources() { # copies the sources into $1/<module>/
  rm -rf "$1"; mkdir -p "$1"
  local m; for m in "${MODULES[@]}" "$RUNNER"; do mkdir -p "$1/$m"; cp "$SOURCES/$m"/*.swift "$1/$m/"; done
}

ARM64_BIN=$WORK/out/$RUNNER-arm64
ARM64_STAMP=$WORK/out/stamp
source_stamp() { # what the arm64 binary depends on: every source file, the compiler, the flags
  local m
  { head -1 "$TC/.ok"; head -1 "$SR/.ok"; echo "${SWIFT_FLAGS[*]}"
    for m in "${MODULES[@]}" "$RUNNER"; do (cd "$SOURCES" && sha256sum "$m"/*.swift); done; } | sha256sum | cut -d' ' -f1
}
compile_arm64() {
  local stamp; stamp=$(source_stamp)
  if [ "${DQLITE_ARM64_REBUILD:-0}" != 1 ] && [ -x "$ARM64_BIN" ] && [ "$(cat "$ARM64_STAMP" 2>/dev/null)" = "$stamp" ]; then
    echo "    sources, compiler and flags unchanged since the last build: reusing $ARM64_BIN"
    return
  fi
  stage_sources "$WORK/src"
  rm -rf "$WORK/obj" "$WORK/out"; mkdir -p "$WORK/obj" "$WORK/out"
  local rc=0
  build_modules /build/src /build/obj "/build/out/$RUNNER-arm64" \
    in_toolchain /usr/bin/swiftc -target aarch64-unknown-linux-gnu -sdk /sysroot \
    -resource-dir "/sysroot$SWLIB/swift_static" -static-stdlib -use-ld=lld \
    -module-cache-path /build/module-cache "${SWIFT_FLAGS[@]}" || rc=$?
  if [ "$rc" != 0 ]; then
    echo "test-arm64.sh: the arm64 build with Swift 6.0.3 failed (the codec must compile with Swift 6.0);" \
      "/build/src/ in the messages above is $SOURCES/" >&2
    exit 1
  fi
  if command -v file >/dev/null; then file -b "$ARM64_BIN" | cut -d, -f1-2 | sed 's/^/    /'; fi
  echo "$stamp" >"$ARM64_STAMP"
}

# Native build with the toolchain on PATH; on amd64 it runs in the background while the arm64 side builds.
NATIVE_LOG=$WORK/native-build.log
NATIVE_BIN=
NATIVE_PID=
native_build() {
  if [ "$SOURCES" = "$REPO/Sources" ]; then
    swift --version 2>&1 | head -1
    cd "$REPO"
    swift build -c release --product "$RUNNER"
  else
    local n=$WORK/native
    swift --version 2>&1 | head -1
    echo "DQLITE_SOURCES_DIR=$SOURCES: building with swiftc directly"
    stage_sources "$n/src"; rm -rf "$n/obj" "$n/out"; mkdir -p "$n/obj" "$n/out"
    build_modules "$n/src" "$n/obj" "$n/out/$RUNNER" swiftc -module-cache-path "$n/module-cache" "${SWIFT_FLAGS[@]}"
  fi
}
native_bin_path() {
  if [ "$SOURCES" = "$REPO/Sources" ]; then
    echo "$(cd "$REPO" && swift build -c release --show-bin-path)/$RUNNER"
  else
    echo "$WORK/native/out/$RUNNER"
  fi
}

# --- 5. runs ----------------------------------------------------------------------------------------------
ARM64_LOG=$WORK/run-arm64.log
NATIVE_RUN_LOG=$WORK/run-$NATIVE_ARCH.log
ARM64_RC=0
NATIVE_RC=0
run_arm64() { # qemu is called explicitly (no binfmt_misc); -L maps /lib/ld-linux-aarch64.so.1 into the sysroot
  qemu-aarch64-static -L "$SR" "$ARM64_BIN" "$GOLDEN" --messages "$MESSAGES" >"$ARM64_LOG" 2>&1 || ARM64_RC=$?
  sed 's/^/    /' "$ARM64_LOG"
  echo "    exit status under qemu-aarch64-static: $ARM64_RC"
}
run_native() {
  "$NATIVE_BIN" "$GOLDEN" --messages "$MESSAGES" >"$NATIVE_RUN_LOG" 2>&1 || NATIVE_RC=$?
  sed 's/^/    /' "$NATIVE_RUN_LOG"
  echo "    exit status on $NATIVE_ARCH: $NATIVE_RC"
}
wait_native() {
  local rc=0
  if [ -n "$NATIVE_PID" ]; then wait "$NATIVE_PID" || rc=$?; else (native_build) >"$NATIVE_LOG" 2>&1 || rc=$?; fi
  NATIVE_PID=
  sed 's/^/    /' "$NATIVE_LOG" | grep -v '^    \[[0-9]*/[0-9]*\] ' || true
  if [ "$rc" != 0 ]; then echo "test-arm64.sh: the native $NATIVE_ARCH build failed" >&2; exit 1; fi
  NATIVE_BIN=$(native_bin_path)
}
swift_version() { "$@" --version 2>&1 | sed -n 's/.*Swift version \([^ ]*\).*/\1/p' | head -1; }
line() { grep -m1 "^$1" "$2" || echo "$1 (missing)"; }
check_run() { # check_run ARCH LOG RC EXPECTED-ARCH-LINE: appends to problems[]
  [ "$(line compiled-arch= "$2")" = "$4" ] || problems+=("$1 run did not prove its architecture")
  grep -Eq '^golden: [1-9][0-9]* passed, 0 failed$' "$2" || problems+=("$1: golden vectors failed")
  grep -Eq '^corpus: .*, 0 round-trip failures$' "$2" || problems+=("$1: corpus round trip failed")
  [ "$3" = 0 ] || problems+=("$1: runner exited with $3")
}
verdict() { # verdict PASS-TEXT
  if [ ${#problems[@]} -eq 0 ]; then echo "VERDICT: PASS: $1"; exit 0; fi
  printf 'VERDICT: FAIL: %s\n' "$(IFS=';'; echo "${problems[*]}" | sed 's/;/; /g')"
  exit 1
}
problems=()

if [ "$NATIVE_ONLY" = 1 ]; then
  echo "==> $(uname -m) host: nothing to emulate; building and running natively"
  echo "==> sources $SOURCES"
  echo "==> golden vectors $GOLDEN"
  step "native arm64 build (Swift $(swift_version swift))" wait_native
  step "run on arm64 (native)" run_native
  check_run arm64 "$NATIVE_RUN_LOG" "$NATIVE_RC" "compiled-arch=arm64 uname-m=aarch64"
  echo "==> summary (total $(secs "$T0"))"
  echo "arm64 (Swift $(swift_version swift), native): $(line compiled-arch= "$NATIVE_RUN_LOG")"
  echo "arm64 $(line golden: "$NATIVE_RUN_LOG")"
  echo "arm64 $(line corpus: "$NATIVE_RUN_LOG")"
  echo "arm64 $(line corpus-json: "$NATIVE_RUN_LOG")"
  verdict "arm64 passes every golden vector and the corpus round trip (compare the digest with an amd64 run)"
fi

cleanup() { # stop our own background build (its direct children, then the subshell) if we exit early
  if [ -n "$NATIVE_PID" ]; then pkill -TERM -P "$NATIVE_PID" 2>/dev/null || true; kill "$NATIVE_PID" 2>/dev/null || true; fi
}
trap cleanup EXIT

echo "==> sources $SOURCES"
echo "==> golden vectors $GOLDEN"
step "host tools (qemu-user-static, mmdebstrap)" host_tools
mkdir -p "$WORK"; rm -f "$ARM64_LOG" "$NATIVE_RUN_LOG"
native_build >"$NATIVE_LOG" 2>&1 &
NATIVE_PID=$!
echo "==> amd64 build started in the background (log: $NATIVE_LOG)"
step "trixie amd64 Swift 6.0.3 toolchain ($TC)" toolchain
step "trixie arm64 sysroot ($SR)" sysroot
step "same Swift build in toolchain and sysroot" versions_match
step "compile for aarch64 (Swift 6.0.3 cross, static stdlib, lld)" compile_arm64
step "run on arm64 (qemu-aarch64-static)" run_arm64
step "wait for the amd64 build (Swift $(swift_version swift))" wait_native
step "run on amd64 (native)" run_native

# --- 6. verdict -------------------------------------------------------------------------------------------
check_run arm64 "$ARM64_LOG" "$ARM64_RC" "compiled-arch=arm64 uname-m=aarch64"
check_run amd64 "$NATIVE_RUN_LOG" "$NATIVE_RC" "compiled-arch=x86_64 uname-m=x86_64"
[ "$(line corpus: "$ARM64_LOG")" = "$(line corpus: "$NATIVE_RUN_LOG")" ] || problems+=("corpus digests differ")
[ "$(line corpus-json: "$ARM64_LOG")" = "$(line corpus-json: "$NATIVE_RUN_LOG")" ] || problems+=("JSON digests differ")

echo "==> summary (total $(secs "$T0"); cache $CACHE)"
echo "arm64 (Swift $(head -1 "$SR/.ok" | sed -n 's/.*Swift version \([^ ]*\).*/\1/p'), qemu-aarch64-static): $(line compiled-arch= "$ARM64_LOG")"
echo "amd64 (Swift $(swift_version swift), native): $(line compiled-arch= "$NATIVE_RUN_LOG")"
for what in golden: corpus: corpus-json:; do
  echo "arm64 $(line "$what" "$ARM64_LOG")"
  echo "amd64 $(line "$what" "$NATIVE_RUN_LOG")"
done
verdict "arm64 and amd64 pass every golden vector and encode the corpus byte-identically"
