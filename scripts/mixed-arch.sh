#!/usr/bin/env bash
# scripts/mixed-arch.sh — a mixed-architecture dqlite cluster on one amd64 machine, checked from Swift clients
# on both architectures.
#
# 1. Assembles, cached outside the repository: an arm64 sysroot with Debian bookworm's arm64 libdqlite0 and
#    go-dqlite (for `dqlite-demo`), plus scripts/mixarch/aioshim.c cross-built with Debian's
#    gcc-aarch64-linux-gnu (a test-only LD_PRELOAD shim: qemu 7.2 user mode lacks Linux native AIO, which
#    libraft needs; see the file); and the arm64 Swift client (Sources/DqliteWire + scripts/mixarch/arm64-client,
#    no Foundation) cross-compiled with trixie's Swift 6.0.3 via scripts/lib/arm64-toolchain.sh, the same
#    toolchain and cache as scripts/test-arm64.sh.
# 2. Forms a 3-node cluster on 127.0.0.1: two amd64 `dqlite-node`s (this repository's, libdqlite 1.11.1) and one
#    arm64 `dqlite-demo` (go-dqlite 1.11.5 on arm64 libdqlite 1.11.1) under qemu-aarch64-static, joined to them,
#    and waits until all three are voters.
# 3. `mixed-arch-check cluster` (Examples/mixed-arch-check, the amd64 Swift client `Dqlite`): moves leadership
#    amd64 -> arm64 -> amd64, and with each leader writes and reads back every value type; then makes each
#    node leader in turn and compares the table's checksum as each leader serves it; times INSERT and point
#    SELECT with each leader.
# 4. Runs the arm64 Swift client under qemu twice, once with an amd64 leader and once with the arm64 leader:
#    handshake, leader discovery from a non-leader seed, CLUSTER, OPEN, EXEC_SQL and PREPARE/EXEC with every value
#    type, a multi-frame query, FAILURE replies, the amd64 client's table (same checksum), round-trip times.
# Every process it starts listens on 127.0.0.1 only and is stopped on exit (trap).
#
# Needs root (mmdebstrap, chroot, mount namespaces) on an x86_64 Debian/Ubuntu host with Swift on PATH and
# Debian's archive reachable; installs qemu-user-static, mmdebstrap and gcc-aarch64-linux-gnu with apt itself.
# Details, figures and what is still unproven: docs/multi-arch.md ("Mixed-architecture cluster under qemu").
#
# Usage (as root):  bash scripts/mixed-arch.sh
# Exit status: 0 = every check passed, 1 = a check failed, 2 = setup error.
#
# Environment (all optional):
#   DQLITE_MIXARCH_CACHE      cache for the node sysroot, the shim and the arm64 client
#                             (default /var/cache/swift-dqlite-mixarch); the last run's logs are in its last-run/
#   SWIFT_ARM64_CACHE         the Swift cross toolchain's cache, shared with test-arm64.sh
#                             (default /var/cache/swift-arm64)
#   SWIFT_ARM64_LOCK_TIMEOUT  seconds to wait for another run's lock on either cache (default 1800)
#   DQLITE_MIXARCH_SAMPLES    samples per latency figure (default 200)
#   DQLITE_MIXARCH_CONFIG     SwiftPM configuration of dqlite-node and mixed-arch-check (default debug)
#   DQLITE_MIXARCH_LATENCY_MS the amd64 nodes' --network-latency-ms (default 200: the arm64 node's raft timing)
#   DEBIAN_MIRROR             default http://deb.debian.org/debian
#   DQLITE_MIXARCH_SUITE      suite of the arm64 dqlite packages (default bookworm)
#   SWIFT_ARM64_SUITE         suite providing Swift 6.0.3 (default trixie)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MIX=${DQLITE_MIXARCH_CACHE:-/var/cache/swift-dqlite-mixarch}
CACHE=${SWIFT_ARM64_CACHE:-/var/cache/swift-arm64}
LOCK_TIMEOUT=${SWIFT_ARM64_LOCK_TIMEOUT:-1800}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=${SWIFT_ARM64_SUITE:-trixie}
NODE_SUITE=${DQLITE_MIXARCH_SUITE:-bookworm}
SAMPLES=${DQLITE_MIXARCH_SAMPLES:-200}
CONFIG=${DQLITE_MIXARCH_CONFIG:-debug}
# The amd64 nodes' --network-latency-ms: libdqlite makes the heartbeat 1.5x and the election timeout 15x of it.
# dqlite-demo cannot be configured and keeps libdqlite's defaults (heartbeat 500 ms, election timeout 3 s), so
# 200 (300 ms / 3 s) matches it. With 20 (30 ms / 300 ms) the amd64 followers' election timeout is shorter than
# the arm64 leader's heartbeat interval, and they depose it whenever it has been idle for ~0.3-0.6 s.
LATENCY_MS=${DQLITE_MIXARCH_LATENCY_MS:-200}

TC=$CACHE/toolchain-amd64      # trixie amd64 tree with Swift 6.0.3 (shared with test-arm64.sh)
SR=$CACHE/sysroot-arm64        # trixie arm64 sysroot with the Swift stdlib (shared with test-arm64.sh)
APTD=$CACHE/apt
SWLIB=/usr/libexec/swift/lib
WORK=$MIX/arm64-client         # the arm64 client's sources, module cache and binary (/build in the toolchain)
NODE_SR=$MIX/sysroot-$NODE_SUITE-arm64   # arm64 dqlite-demo, libdqlite0 and their libraries, plus the shim
RUN=$MIX/last-run              # this run's data directories and logs
SWIFT_FLAGS=(-swift-version 6 -O -wmo -enable-upcoming-feature ExistentialAny
  -enable-upcoming-feature MemberImportVisibility)

die() { echo "mixed-arch.sh: $*" >&2; exit 2; }
[ "$(uname -m)" = x86_64 ] || die "needs an x86_64 host (the arm64 node and client run under qemu-user)"
[ "$(id -u)" = 0 ] || die "must run as root (mmdebstrap, chroot, mount)"
command -v swift >/dev/null || die "no swift on PATH (needed for dqlite-node and mixed-arch-check)"
case $SAMPLES in '' | *[!0-9]* | 0) die "DQLITE_MIXARCH_SAMPLES must be a positive number" ;; esac
case $CONFIG in debug | release) ;; *) die "DQLITE_MIXARCH_CONFIG must be debug or release" ;; esac
case $LATENCY_MS in '' | *[!0-9]* | 0) die "DQLITE_MIXARCH_LATENCY_MS must be a positive number" ;; esac
# shellcheck source=lib/arm64-toolchain.sh
. "$REPO/scripts/lib/arm64-toolchain.sh"

take_lock() { # take_lock FD FILE
  if ! flock -n "$1"; then
    echo "==> waiting for another run's lock on $2 (up to ${LOCK_TIMEOUT}s)"
    flock -w "$LOCK_TIMEOUT" "$1" || die "timed out waiting for $2"
  fi
}
mkdir -p "$MIX" "$CACHE"
exec 9>"$MIX/.lock"   # one run at a time: the node sysroot, the client build and last-run/ are shared
take_lock 9 "$MIX/.lock"

now_ms() { echo $(($(date +%s%N) / 1000000)); }
secs() { local ms=$(($(now_ms) - $1)); printf '%d.%01ds' $((ms / 1000)) $((ms % 1000 / 100)); }
T0=$(now_ms)
step() { # step NAME CMD... : run one step and print its wall-clock time
  local name=$1 t; shift; t=$(now_ms)
  echo "==> $name"
  "$@"
  echo "    [$name: $(secs "$t")]"
}

# --- processes and cleanup ------------------------------------------------------------------------------
PIDS=()          # cluster nodes, stopped in reverse order
BUILD_PID=
cleanup() {
  local rc=$? pid i
  if [ -n "$BUILD_PID" ]; then # our own background swift build: its children, then the subshell
    pkill -TERM -P "$BUILD_PID" 2>/dev/null || true; kill "$BUILD_PID" 2>/dev/null || true
  fi
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do kill -TERM "${PIDS[i]}" 2>/dev/null || true; done
  for i in $(seq 50); do # up to 5 s for a clean stop, then SIGKILL
    local alive=0
    for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 1 ] || break
    sleep 0.1
  done
  for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  [ ${#PIDS[@]} -eq 0 ] || echo "==> stopped ${#PIDS[@]} node processes (logs: $RUN)"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- 1. host tools ---------------------------------------------------------------------------------------
# (host_tools is in scripts/lib/arm64-toolchain.sh; gcc-aarch64-linux-gnu builds the shim for bookworm's glibc,
# sqlite3 reads the nodes' database copies, python3 finds free ports)
HOST_PACKAGES=(qemu-user-static mmdebstrap debian-archive-keyring gcc-aarch64-linux-gnu libc6-dev-arm64-cross
  sqlite3 python3)

# --- 2. amd64 side: dqlite-node and mixed-arch-check -----------------------------------------------------
AMD64_LOG=$RUN/amd64-build.log
BIN=
amd64_build() {
  cd "$REPO"
  swift --version 2>&1 | head -1
  swift build -c "$CONFIG" --product dqlite-node
  swift build -c "$CONFIG" --product mixed-arch-check
}
wait_amd64_build() {
  local rc=0
  wait "$BUILD_PID" || rc=$?
  BUILD_PID=
  grep -v '^\[[0-9]*/[0-9]*\] ' "$AMD64_LOG" | sed 's/^/    /' || true
  [ "$rc" = 0 ] || { echo "mixed-arch.sh: swift build failed (log: $AMD64_LOG)" >&2; exit 1; }
  BIN=$(cd "$REPO" && swift build -c "$CONFIG" --show-bin-path)
}

# --- 3. arm64 Swift client: DqliteWire + scripts/mixarch/arm64-client, Swift 6.0.3 cross ---------------------
CLIENT_BIN=$WORK/out/mixarch-client-arm64
client_stamp() { # what the binary depends on: the sources, the compiler, the flags
  { head -1 "$TC/.ok"; head -1 "$SR/.ok"; echo "${SWIFT_FLAGS[*]}"
    (cd "$REPO/Sources" && sha256sum DqliteWire/*.swift)
    (cd "$REPO/scripts/mixarch" && sha256sum arm64-client/*.swift); } | sha256sum | cut -d' ' -f1
}
compile_client() {
  local stamp; stamp=$(client_stamp)
  if [ -x "$CLIENT_BIN" ] && [ "$(cat "$WORK/out/stamp" 2>/dev/null)" = "$stamp" ]; then
    echo "    sources, compiler and flags unchanged since the last build: reusing $CLIENT_BIN"
    return
  fi
  rm -rf "$WORK/src" "$WORK/obj" "$WORK/out"
  mkdir -p "$WORK/src/DqliteWire" "$WORK/src/client" "$WORK/obj" "$WORK/out"
  cp "$REPO"/Sources/DqliteWire/*.swift "$WORK/src/DqliteWire/"
  cp "$REPO"/scripts/mixarch/arm64-client/*.swift "$WORK/src/client/"
  local swiftc=(in_toolchain /usr/bin/swiftc -target aarch64-unknown-linux-gnu -sdk /sysroot
    -resource-dir "/sysroot$SWLIB/swift_static" -static-stdlib -use-ld=lld -module-cache-path /build/module-cache
    "${SWIFT_FLAGS[@]}")
  local files=() f t
  for f in "$WORK"/src/DqliteWire/*.swift; do files+=("/build/src/DqliteWire/${f##*/}"); done
  t=$(now_ms)
  "${swiftc[@]}" -parse-as-library -module-name DqliteWire -I /build/obj -emit-module \
    -emit-module-path /build/obj/DqliteWire.swiftmodule -c "${files[@]}" -o /build/obj/DqliteWire.o ||
    { echo "mixed-arch.sh: DqliteWire does not build for aarch64 with Swift 6.0.3" >&2; exit 1; }
  echo "    swiftc DqliteWire (${#files[@]} files): $(secs "$t")"
  files=()
  for f in "$WORK"/src/client/*.swift; do files+=("/build/src/client/${f##*/}"); done
  t=$(now_ms)
  "${swiftc[@]}" -module-name mixarch_client -I /build/obj "${files[@]}" /build/obj/DqliteWire.o \
    -o /build/out/mixarch-client-arm64 ||
    { echo "mixed-arch.sh: the arm64 client does not build (/build/src/client: scripts/mixarch/arm64-client)" >&2
      exit 1; }
  echo "    swiftc arm64 client + link: $(secs "$t")"
  if command -v file >/dev/null; then file -b "$CLIENT_BIN" | cut -d, -f1-2 | sed 's/^/    /'; fi
  echo "$stamp" >"$WORK/out/stamp"
}
arm64_client() { # toolchain, sysroot and client build, under test-arm64.sh's cache lock
  exec 8>"$CACHE/.lock"
  take_lock 8 "$CACHE/.lock"
  step "trixie amd64 Swift 6.0.3 toolchain ($TC)" toolchain
  step "trixie arm64 sysroot ($SR)" sysroot
  step "same Swift build in toolchain and sysroot" versions_match
  step "compile the arm64 client (DqliteWire + scripts/mixarch/arm64-client, Swift 6.0.3 cross)" compile_client
  exec 8>&-
}

# --- 4. arm64 dqlite node: bookworm's dqlite-demo and libdqlite0 for arm64, plus the AIO shim ---------------
node_sysroot() {
  if [ -e "$NODE_SR/.ok" ]; then echo "    cached: $(tr '\n' ' ' <"$NODE_SR/.ok")"; return; fi
  rm -rf --one-file-system "$NODE_SR.tmp"
  # 'extract' unpacks the packages and their dependencies; no arm64 code runs to build the tree
  mmdebstrap --mode=root --variant=extract --architectures=arm64 --include=go-dqlite,libdqlite0 \
    "$NODE_SUITE" "$NODE_SR.tmp" "$MIRROR"
  [ -e "$NODE_SR.tmp/lib" ] || ln -s usr/lib "$NODE_SR.tmp/lib" # qemu -L: /lib/ld-linux-aarch64.so.1
  [ -e "$NODE_SR.tmp/lib/ld-linux-aarch64.so.1" ] || die "no arm64 dynamic loader in $NODE_SR.tmp"
  [ -x "$NODE_SR.tmp/usr/bin/dqlite-demo" ] || die "no dqlite-demo in $NODE_SR.tmp"
  local p v d # versions from the changelogs (extract leaves no dpkg status); a binNMU has its own changelog
  for p in go-dqlite libdqlite0 libraft2 libuv1 libsqlite3-0 libc6; do
    d=$NODE_SR.tmp/usr/share/doc/$p
    v=$({ zcat "$d/changelog.Debian.arm64.gz" 2>/dev/null || zcat "$d/changelog.Debian.gz" 2>/dev/null || true; } |
      sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p')
    echo "$p=${v:-?}"
  done >"$NODE_SR.tmp/.ok"
  echo "    $(tr '\n' ' ' <"$NODE_SR.tmp/.ok")"
  rm -rf --one-file-system "$NODE_SR"; mv "$NODE_SR.tmp" "$NODE_SR"
}
SHIM=$NODE_SR/usr/local/lib/aioshim.so
build_shim() {
  local stamp; stamp=$(sha256sum "$REPO/scripts/mixarch/aioshim.c" | cut -d' ' -f1)
  if [ -e "$SHIM" ] && [ "$(cat "$SHIM.stamp" 2>/dev/null)" = "$stamp" ]; then echo "    unchanged: $SHIM"; return; fi
  mkdir -p "${SHIM%/*}"
  aarch64-linux-gnu-gcc -O2 -Wall -Werror -shared -fPIC -o "$SHIM" "$REPO/scripts/mixarch/aioshim.c" -ldl -lpthread
  echo "$stamp" >"$SHIM.stamp"
  file -b "$SHIM" | cut -d, -f1-2 | sed 's/^/    /'
}

# --- 5. the cluster --------------------------------------------------------------------------------------
free_ports() { # free_ports N: N distinct free TCP ports on 127.0.0.1
  python3 -c '
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))' "$1"
}
wait_line() { # wait_line FILE PATTERN SECONDS PID
  local i
  for i in $(seq $(($3 * 10))); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    kill -0 "$4" 2>/dev/null || break
    sleep 0.1
  done
  echo "mixed-arch.sh: no '$2' in $1:" >&2; tail -20 "$1" >&2; exit 1
}
A1= A2= A3= API=
start_cluster() {
  local ports; read -r -a ports <<<"$(free_ports 4)"
  A1=127.0.0.1:${ports[0]}; A2=127.0.0.1:${ports[1]}; A3=127.0.0.1:${ports[2]}; API=127.0.0.1:${ports[3]}
  local t
  t=$(now_ms)
  "$BIN/dqlite-node" --id 1 --address "$A1" --data-dir "$RUN/node1" --network-latency-ms "$LATENCY_MS" \
    >"$RUN/node1.log" 2>&1 &
  PIDS+=($!)
  wait_line "$RUN/node1.log" '^READY' 30 "${PIDS[0]}"
  echo "    node 1 (amd64 dqlite-node) $A1 bootstrapped: $(secs "$t")"
  t=$(now_ms)
  "$BIN/dqlite-node" --id 2 --address "$A2" --data-dir "$RUN/node2" --join "$A1" --network-latency-ms "$LATENCY_MS" \
    >"$RUN/node2.log" 2>&1 &
  PIDS+=($!)
  wait_line "$RUN/node2.log" '^READY' 60 "${PIDS[1]}"
  echo "    node 2 (amd64 dqlite-node) $A2 joined as voter: $(secs "$t")"
  # The arm64 node: go-dqlite's app joins as spare and promotes itself; its id is random (read from CLUSTER).
  qemu-aarch64-static -E LD_PRELOAD=/usr/local/lib/aioshim.so -d unimp -D "$RUN/qemu-arm64.log" -L "$NODE_SR" \
    "$NODE_SR/usr/bin/dqlite-demo" --api "$API" --db "$A3" --dir "$RUN/node3" --join "$A1,$A2" -v \
    >"$RUN/node3-arm64.log" 2>&1 &
  PIDS+=($!)
  echo "    node 3 (arm64 dqlite-demo under qemu-aarch64-static + aioshim) $A3 started, joining $A1,$A2"
}

# --- 6. checks -------------------------------------------------------------------------------------------
CHECK_LOG=$RUN/amd64-client.log
RC_CHECK=0
run_amd64_checks() {
  timeout 600 "$BIN/mixed-arch-check" cluster --nodes "$A1,$A2,$A3" --arm64 "$A3" --samples "$SAMPLES" \
    >"$CHECK_LOG" 2>&1 || RC_CHECK=$?
  sed 's/^/    /' "$CHECK_LOG"
  echo "    exit status: $RC_CHECK"
}
transfer() { # transfer ADDRESS (a failure is counted in the verdict: no `leadership:` line)
  timeout 120 "$BIN/mixed-arch-check" transfer --nodes "$A1,$A2,$A3" --arm64 "$A3" --to "$1" \
    >"$RUN/transfer.out" 2>&1 || echo "transfer to $1 failed" >>"$RUN/transfer.out"
  cat "$RUN/transfer.out" >>"$RUN/transfers.log"
  sed 's/^/    /' "$RUN/transfer.out"
}
RC_CLIENT=()
run_arm64_client() { # run_arm64_client LABEL SEEDS LEADER: the first seed is not the leader (discovery must redirect)
  local log=$RUN/arm64-client-$1.log rc=0 rows digest
  rows=$(sed -n 's/^TABLE vals rows=\([0-9]*\) .*/\1/p' "$CHECK_LOG")
  digest=$(sed -n 's/^TABLE vals .*fnv1a64=\([0-9a-f]*\)$/\1/p' "$CHECK_LOG")
  timeout 600 qemu-aarch64-static -L "$SR" "$CLIENT_BIN" --seeds "$2" --expect-leader "$3" --database mixarch \
    --label "$1" --samples "$SAMPLES" --expect-table vals --expect-rows "${rows:-0}" --expect-digest "${digest:-none}" \
    >"$log" 2>&1 || rc=$?
  sed 's/^/    /' "$log"
  echo "    exit status under qemu-aarch64-static: $rc"
  RC_CLIENT+=("$rc")
}

compare_dumps() { # every node's own copy (DUMP from that node), read by the host's sqlite3: the same content
  local attempt d sums
  for attempt in $(seq 10); do # a follower applies the last entries a heartbeat later: retry for a while
    rm -rf "$RUN/dumps"
    timeout 120 "$BIN/mixed-arch-check" dump --nodes "$A1,$A2,$A3" --arm64 "$A3" --database mixarch \
      --out "$RUN/dumps" >"$RUN/dumps.log" 2>&1 || { cat "$RUN/dumps.log"; sleep 1; continue; }
    for d in "$RUN"/dumps/node-*/; do
      d=${d%/}
      # as downloaded: the database file's hash, and the WAL's frames without each node's salts and checksums
      { echo "database $(sha256sum <"$d/mixarch" | cut -c1-16)"
        [ ! -e "$d/mixarch-wal" ] || echo "wal $(python3 "$REPO/scripts/mixarch/wal-content.py" "$d/mixarch-wal")"
      } >"$d.raw" 2>&1
      cp -r "$d" "$d.sqlite"                # sqlite3 checkpoints the WAL into the copy's database file
      sqlite3 "$d.sqlite/mixarch" .dump >"$d.sql" 2>&1 || true
      sqlite3 "$d.sqlite/mixarch" 'PRAGMA integrity_check' >"$d.integrity" 2>&1 || true
    done
    sums=$(for d in "$RUN"/dumps/node-*.sql "$RUN"/dumps/node-*.raw; do sha256sum <"$d"; done | sort -u | wc -l)
    [ "$sums" = 2 ] && ! grep -qv '^ok$' "$RUN"/dumps/node-*.integrity && break # one .sql and one .raw content
    sleep 1
  done
  sed 's/^/    /' "$RUN/dumps.log"
  for d in "$RUN"/dumps/node-*.sql; do
    echo "    ${d##*/}: sqlite3 .dump sha256 $(sha256sum <"$d" | cut -c1-16), $(wc -l <"$d") lines," \
      "integrity_check $(tr '\n' ' ' <"${d%.sql}.integrity")(attempt $attempt)"
    echo "    ${d##*/}: as downloaded: $(tr '\n' ' ' <"${d%.sql}.raw")"
  done
}

# --- run -------------------------------------------------------------------------------------------------
rm -rf --one-file-system "$RUN"; mkdir -p "$RUN"
step "host tools (${HOST_PACKAGES[*]})" host_tools "${HOST_PACKAGES[@]}"
amd64_build >"$AMD64_LOG" 2>&1 &
BUILD_PID=$!
echo "==> amd64 build (swift build -c $CONFIG: dqlite-node, mixed-arch-check) started in the background"
arm64_client
step "$NODE_SUITE arm64 dqlite node sysroot ($NODE_SR)" node_sysroot
step "AIO shim for qemu (scripts/mixarch/aioshim.c, aarch64-linux-gnu-gcc)" build_shim
step "wait for the amd64 build" wait_amd64_build
T_CLUSTER=$(now_ms)
step "cluster: 2 x amd64 dqlite-node + 1 x arm64 dqlite-demo on 127.0.0.1" start_cluster
step "amd64 Swift client (mixed-arch-check): voters, leadership amd64 <-> arm64, every value type, checksums" \
  run_amd64_checks
if [ "$RC_CHECK" = 0 ]; then
  step "leader: amd64 node 1" transfer "$A1"
  step "arm64 Swift client under qemu, amd64 leader (seeds: the arm64 node first)" \
    run_arm64_client amd64-leader "$A3,$A1,$A2" "$A1"
  step "leader: the arm64 node" transfer "$A3"
  step "arm64 Swift client under qemu, arm64 leader (seeds: amd64 node 1 first)" \
    run_arm64_client arm64-leader "$A1,$A2,$A3" "$A3"
  step "leader: back to amd64 node 1" transfer "$A1"
  step "each node's own copy of the database (DUMP from each node, read by the host's sqlite3)" compare_dumps
fi
CLUSTER_TIME=$(secs "$T_CLUSTER")

# --- verdict ---------------------------------------------------------------------------------------------
problems=()
grep -q '^mixed-arch-check: [1-9][0-9]* passed, 0 failed$' "$CHECK_LOG" && [ "$RC_CHECK" = 0 ] ||
  problems+=("amd64 Swift client checks failed (exit $RC_CHECK)")
for label in amd64-leader arm64-leader; do
  log=$RUN/arm64-client-$label.log
  [ -e "$log" ] || { problems+=("arm64 client ($label) did not run"); continue; }
  grep -q '^arm64-client: compiled-arch=arm64 uname-m=aarch64' "$log" ||
    problems+=("arm64 client ($label) did not run as arm64")
  grep -q '^arm64-client: [1-9][0-9]* passed, 0 failed$' "$log" || problems+=("arm64 client ($label) checks failed")
done
[ "$(grep -c '^leadership: ' "$RUN/transfers.log" 2>/dev/null)" = 3 ] || problems+=("a leadership transfer failed")
[ "$(sed -n 's/^checksum: .*: \(rows=.*\)$/\1/p' "$CHECK_LOG" | sort -u | wc -l)" = 1 ] ||
  problems+=("checksums differ between leaders")
same_files() { # same_files SUFFIX: three non-empty files dumps/node-*.SUFFIX, all identical
  [ "$(ls "$RUN"/dumps/node-*."$1" 2>/dev/null | wc -l)" = 3 ] &&
    [ "$(for d in "$RUN"/dumps/node-*."$1"; do [ -s "$d" ] && sha256sum <"$d"; done | sort -u | wc -l)" = 1 ]
}
same_files sql || problems+=("the nodes' own copies of the database differ in content (or could not be dumped)")
same_files raw && grep -q '^database [0-9a-f]' "$RUN"/dumps/node-1.raw ||
  problems+=("the nodes' database files or WAL frames differ (or could not be dumped)")
! grep -qsv '^ok$' "$RUN"/dumps/node-*.integrity || problems+=("a node's copy fails PRAGMA integrity_check")

echo "==> summary (total $(secs "$T0"); cluster phase $CLUSTER_TIME; logs $RUN)"
echo "amd64 nodes: dqlite-node ($CONFIG, --network-latency-ms $LATENCY_MS)," \
  "libdqlite0 $(dpkg-query -W -f='${Version}' libdqlite0 2>/dev/null || echo '?')"
echo "arm64 node:  dqlite-demo under $(qemu-aarch64-static --version | head -1 | sed 's/ *Copyright.*//')," \
  "$(tr '\n' ' ' <"$NODE_SR/.ok")"
grep -h -E '^(voters|leadership|checksum|latency|TABLE)' "$CHECK_LOG" || true
grep -h '^leadership' "$RUN/transfers.log" 2>/dev/null || true
cat "$RUN/dumps.log" 2>/dev/null || true
for d in "$RUN"/dumps/node-*.sql; do
  [ -e "$d" ] || continue
  echo "own copy of $(basename "$d" .sql): sqlite3 .dump sha256 $(sha256sum <"$d" | cut -c1-16)," \
    "integrity_check $(tr '\n' ' ' <"${d%.sql}.integrity"); as downloaded: $(tr '\n' ' ' <"${d%.sql}.raw")"
done
for label in amd64-leader arm64-leader; do
  log=$RUN/arm64-client-$label.log
  [ -e "$log" ] || continue
  sed -n -e "s/^\(discovery:.*\)/arm64 client ($label): \1/p" -e "s/^\(amd64-table:.*\)/arm64 client ($label): \1/p" \
    -e "s/^\(latency .*\)/arm64 client ($label): \1/p" -e "s/^\(arm64-client: [0-9]* passed.*\)/\1 ($label)/p" "$log"
done
grep -h 'Unsupported syscall' "$RUN/qemu-arm64.log" 2>/dev/null | sort | uniq -c |
  sed 's/^ */qemu (arm64 node): /' || true
if [ ${#problems[@]} -eq 0 ]; then
  echo "VERDICT: PASS: 2 amd64 + 1 arm64 voters; leadership moved across architectures; every value type and the" \
    "table checksum identical with each leader; each node's own database file and WAL pages identical; the arm64" \
    "Swift client passed against amd64 and arm64 leaders"
  exit 0
fi
printf 'VERDICT: FAIL: %s\n' "$(IFS=';'; echo "${problems[*]}" | sed 's/;/; /g')"
for f in "$RUN"/node*.log; do echo "--- tail of $f"; tail -15 "$f"; done
exit 1
