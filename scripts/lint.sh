#!/usr/bin/env bash
# Checks formatting with the toolchain's swift-format (style: .swift-format). Fix with:
#   swift format format -i --recursive Sources Tests Fuzz Examples Benchmarks/Benchmarks Benchmarks/EndToEnd
set -euo pipefail
cd "$(dirname "$0")/.."
paths=()
for p in Sources Tests Fuzz Examples Benchmarks/Benchmarks Benchmarks/EndToEnd; do [ -d "$p" ] && paths+=("$p"); done
swift format lint --strict --recursive "${paths[@]}"
echo "lint: ${#paths[@]} folders formatted as .swift-format says"
