# scripts/lib/arm64-toolchain.sh — the Swift 6.0.3 aarch64 cross toolchain, shared by scripts/test-arm64.sh and
# scripts/mixed-arch.sh (sourced, not run). Moved here unchanged from test-arm64.sh, except that host_tools now
# takes an optional package list.
#
# The caller sets, before calling anything:
#   CACHE   cache directory (e.g. /var/cache/swift-arm64); the caller holds its flock while using it
#   TC      $CACHE/toolchain-amd64: trixie amd64 tree with swiftlang 6.0.3 (run via chroot)
#   SR      $CACHE/sysroot-arm64: trixie arm64 sysroot with the arm64 Swift stdlib
#   WORK    host folder bind-mounted at /build inside the toolchain (sources, module cache, output)
#   APTD    $CACHE/apt: private apt config used only to fetch swiftlang:arm64
#   MIRROR  Debian mirror;  SUITE  suite providing Swift 6.0.3 (trixie)
#   SWLIB   /usr/libexec/swift/lib
# and defines die MESSAGE (exits 2). Functions:
#   host_tools [PACKAGE...]  apt-get install the missing ones (default: qemu-user-static mmdebstrap
#                            debian-archive-keyring)
#   toolchain | sysroot      build $TC / $SR unless cached (a .ok file marks a complete tree)
#   versions_match           the compiler in $TC and the stdlib in $SR are the same swiftlang build
#   in_toolchain CMD...      run CMD chrooted in $TC with /proc, $SR at /sysroot and $WORK at /build mounted

# --- 1. host tools ---------------------------------------------------------------------------------------
host_tools() { # host_tools [PACKAGE...]
  local need=() p
  [ $# -gt 0 ] || set -- qemu-user-static mmdebstrap debian-archive-keyring
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || need+=("$p")
  done
  if [ ${#need[@]} -eq 0 ]; then echo "    present"; return; fi
  echo "    installing ${need[*]}"
  local apt=(apt-get -y -q -o DPkg::Lock::Timeout=600 --no-install-recommends) log=$CACHE/host-apt.log
  { DEBIAN_FRONTEND=noninteractive "${apt[@]}" install "${need[@]}" ||
    { apt-get -q -o DPkg::Lock::Timeout=600 update &&
      DEBIAN_FRONTEND=noninteractive "${apt[@]}" install "${need[@]}"; }; } >"$log" 2>&1 ||
    { cat "$log" >&2; die "apt-get install ${need[*]} failed"; }
}

# --- 2. trixie amd64 tree holding the Swift 6.0.3 toolchain -----------------------------------------------
in_toolchain() { # chroot into $TC with /proc, the sysroot and $WORK mounted, in a private mount namespace
  mkdir -p "$WORK" # (the mounts vanish with the namespace: nothing to clean up, even on ^C)
  unshare --mount --propagation private -- /bin/sh -ec '
    TC=$1; SR=$2; WORK=$3; shift 3
    mount -t proc proc "$TC/proc"          # swiftc resolves $ORIGIN through /proc/self/exe
    [ ! -d "$SR" ] || mount --bind "$SR" "$TC/sysroot"
    mount --bind "$WORK" "$TC/build"
    exec chroot "$TC" "$@"' sh "$TC" "$SR" "$WORK" "$@"
}

toolchain() {
  if [ -e "$TC/.ok" ]; then echo "    cached: $(head -1 "$TC/.ok")"; return; fi
  rm -rf --one-file-system "$TC.tmp"
  # 'extract' unpacks swiftlang and its dependencies without running maintainer scripts (~1 min instead of
  # ~3 min); swiftlang's only postinst action is an optional /usr/bin/swift symlink, which swiftc does not need.
  mmdebstrap --mode=root --variant=extract --include=swiftlang,libc6-dev "$SUITE" "$TC.tmp" "$MIRROR"
  local d
  for d in bin sbin lib lib64; do # extract does not create the merged-/usr links
    [ -e "$TC.tmp/$d" ] || [ ! -d "$TC.tmp/usr/$d" ] || ln -s "usr/$d" "$TC.tmp/$d"
  done
  mkdir -p "$TC.tmp/proc" "$TC.tmp/sysroot" "$TC.tmp/build"
  local v; v=$(TC=$TC.tmp in_toolchain /usr/bin/swiftc --version 2>&1 | head -1)
  case $v in "Swift version "*) echo "    $v" ;; *) die "toolchain check failed: $v" ;; esac
  echo "$v" >"$TC.tmp/.ok"
  rm -rf --one-file-system "$TC"; mv "$TC.tmp" "$TC"
}

# --- 3. trixie arm64 sysroot: C runtime + the Swift 6.0.3 arm64 stdlib --------------------------------------
sysroot() {
  if [ -e "$SR/.ok" ]; then echo "    cached: $(head -1 "$SR/.ok")"; return; fi
  rm -rf --one-file-system "$SR.tmp"
  mmdebstrap --mode=root --variant=extract --architectures=arm64 \
    --include=libc6-dev,libgcc-14-dev,libstdc++-14-dev,libswiftlang "$SUITE" "$SR.tmp" "$MIRROR"
  # swiftlang:arm64 (~400 MB) carries the .swiftmodule/.swiftinterface files, swiftrt.o and the static
  # runtime. Fetch just that .deb through a private apt config (the host's apt sources are not touched) and
  # unpack only lib/.
  mkdir -p "$APTD/lists/partial" "$APTD/cache/archives/partial" "$APTD/parts" "$APTD/debs"
  echo "deb [arch=arm64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR $SUITE main" \
    >"$APTD/sources.list"
  local apt=(apt-get -q -o Dir::Etc::SourceList="$APTD/sources.list" -o Dir::Etc::SourceParts="$APTD/parts"
    -o Dir::State::Lists="$APTD/lists" -o Dir::Cache="$APTD/cache"
    -o APT::Architectures::=amd64 -o APT::Architectures::=arm64 -o APT::Sandbox::User=root)
  "${apt[@]}" update
  rm -f "$APTD"/debs/*.deb
  (cd "$APTD/debs" && "${apt[@]}" download swiftlang:arm64)
  dpkg-deb --fsys-tarfile "$APTD"/debs/swiftlang_*_arm64.deb | tar -x -C "$SR.tmp" --wildcards \
    "./usr/libexec/swift/lib/swift/*" "./usr/libexec/swift/lib/swift_static/*" "./usr/libexec/swift/lib/clang/*" \
    --exclude="./usr/libexec/swift/lib/swift/embedded/*" --exclude="./usr/libexec/swift/lib/swift/host/*" \
    --exclude="./usr/libexec/swift/lib/swift/pm/*" --exclude="./usr/libexec/swift/lib/swift/migrator/*"
  rm -f "$APTD"/debs/*.deb
  local d
  for d in bin sbin lib; do [ -e "$SR.tmp/$d" ] || ln -s "usr/$d" "$SR.tmp/$d"; done # qemu -L: /lib/ld-linux-aarch64.so.1
  # silences "warning: Could not read SDKSettings.json for SDK"
  echo '{"Version":"6.0","CanonicalName":"linux","DisplayName":"Debian trixie arm64"}' >"$SR.tmp/SDKSettings.json"
  # the stdlib's compiler version, compared with the toolchain's below
  sed -n 's|^// swift-compiler-version: ||p' \
    "$SR.tmp$SWLIB/swift/linux/Swift.swiftmodule/aarch64-unknown-linux-gnu.swiftinterface" >"$SR.tmp/.ok"
  [ -s "$SR.tmp/.ok" ] || die "no arm64 Swift stdlib in the sysroot"
  echo "    arm64 stdlib: $(cat "$SR.tmp/.ok")"
  rm -rf --one-file-system "$SR"; mv "$SR.tmp" "$SR"
}

# The compiler and the arm64 stdlib must be the same swiftlang build (binary .swiftmodules are only readable
# by the exact same compiler). If the suite updated swiftlang between the two downloads, rebuild both.
versions_match() {
  if [ "$(head -1 "$TC/.ok")" = "$(head -1 "$SR/.ok")" ]; then echo "    $(head -1 "$SR/.ok")"; return; fi
  echo "    mismatch: toolchain '$(head -1 "$TC/.ok")' vs sysroot '$(head -1 "$SR/.ok")'; rebuilding both"
  rm -f "$TC/.ok" "$SR/.ok"; toolchain; sysroot
  [ "$(head -1 "$TC/.ok")" = "$(head -1 "$SR/.ok")" ] || die "swiftlang versions still differ"
}

