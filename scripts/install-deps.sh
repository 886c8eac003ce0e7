#!/usr/bin/env bash
# Installs the Debian packages the build, the demo and the tests need (idempotent, quiet when present).
# Swift itself is expected on PATH (https://www.swift.org/install/linux/).
#
#   libdqlite-dev libuv1-dev liblz4-dev libsqlite3-dev   embedded nodes (CDqlite / DqliteServer), libdqlite 1.11.1
#   libedit-dev                                           dqlite-shell's line editing (CEdit)
#   go-dqlite                                             interop: go-dqlite's dqlite-demo nodes and `dqlite` shell
#   stunnel4 openssl                                      TLS tests: a real TLS terminator with client certificates
#   mmdebstrap                                            libdqlite 1.18.7 nodes in a cached chroot (scripts/dqlite118.sh)
#   sqlite3                                               checks that a DUMP opens as an SQLite database
#   tmux                                                  drives dqlite-shell in a pseudo-terminal (interactive test)
#   python3-venv shellcheck                               scripts/lint-workflows.sh: actionlint from PyPI in a venv,
#                                                         and shellcheck for the workflows' run: scripts
#   file procps                                           `file` and `pkill` in the arm64 scripts (absent from a bare
#                                                         debian:12 container, where the hosted CI runs)
set -euo pipefail
packages=(pkg-config python3 libdqlite-dev libuv1-dev liblz4-dev libsqlite3-dev libedit-dev go-dqlite stunnel4
    openssl mmdebstrap sqlite3 debian-archive-keyring tmux curl python3-venv shellcheck file procps)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get -o DPkg::Lock::Timeout=300 update -qq
$sudo apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
