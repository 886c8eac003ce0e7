#!/usr/bin/env python3
"""Side-by-side table of the codec benchmarks: go-dqlite 1.11.5 vs DqliteWire.

Usage: python3 scripts/bench_codec_table.py --swift-jmh TIME.json [--swift MALLOC.txt] [--go GO_BENCH.txt]
(--swift-jmh and --go may be repeated, one per round: Swift iterations and Go runs are pooled.)

TIME.json is the JMH export of the Swift timing run
    swift package --package-path Benchmarks benchmark --filter ... --no-progress \\
        --metric wallClock --metric throughput --format jmh --path stdout
(every recorded iteration's wall clock, so p25/p50/p75 and the mean can all be computed; an iteration is
1000 rows for decode, 1000 frames for encode: see Benchmarks/Benchmarks/WireBenchmarks/WireBenchmarks.swift).
MALLOC.txt is the text output of the same command with `--metric mallocCountTotal --metric wallClock
--scale` (raw figures per iteration) instead. bench-codec.sh times with a build that has no malloc
interposer (WIRE_BENCH_NO_MALLOC_INTERPOSER=1, see Benchmarks/Package.swift): the plugin preloads the
counting interposer whenever it is built, and its malloc/free wrappers cost 13–22 ns per decoded row,
which go-dqlite's timed loop does not pay. The wall clock of the malloc run is printed too, for reference.
GO_BENCH.txt is the raw `go test -bench` output written by ../shared/tools/gobench/run.sh
(results/bench.txt); each Go figure is a mean over about a second of iterations, and the table takes the
median over the -count runs.

Ratios compare Swift's median iteration with go-dqlite's median run, over all rounds pooled (the
figures the issue asks for), and round by round: each round runs go-dqlite and then Swift, so a round's
ratio compares the two under the same spell of other work, which a pooled figure can mix up. A target
counts as met only if the pooled ratio and every round's ratio meet it. Swift's mean iteration is printed
too: a mean well above the median shows that other work preempted the benchmark (a Go run's ns/op is a
mean over about a second, so it includes such preemption). Prints Markdown.
"""
import argparse
import json
import re
import statistics
import sys

# (swift name, go name, kind, rows per Go op)
PAIRS = [
    ("decode.rowsPage", "DecodeRowsPage", "decode", 50),
    ("decode.rows1000.server", "DecodeRows1000Server", "decode", 1000),
    ("decode.rows1000", "DecodeRows1000", "decode", 1000),
    ("encode.execSQL", "EncodeExecSQL", "encode", None),
    ("encode.querySQL100", "EncodeQuerySQL100Params", "encode", None),
]
SWIFT_ITERATION = 1000  # rows (decode) or frames (encode) per measured iteration: scalingFactor .kilo
DECODE_TARGET = 3.0  # Swift rows/s >= 3x go-dqlite's
ENCODE_TARGET = 1.0  # Swift at least as fast as go-dqlite

ANSI = re.compile(r"\x1b\[[0-9;]*m")
PERCENTILES = ["p0", "p25", "p50", "p75", "p90", "p99", "p100", "samples"]


def parse_swift(path):
    """{benchmark: {metric: {p0: .., p50: .., ..}}} from the benchmark plugin's text tables (--scale)."""
    results, current = {}, None
    names = {p[0] for p in PAIRS}
    for raw in open(path, encoding="utf-8", errors="replace"):
        line = ANSI.sub("", raw).rstrip("\n")
        if line.strip() in names:
            current = results.setdefault(line.strip(), {})
            continue
        if current is None or not line.startswith("│"):
            continue
        cells = [c.strip() for c in line.strip("│").split("│")]
        if len(cells) != 1 + len(PERCENTILES) or cells[0] == "Metric":
            continue
        try:
            values = [float(c.replace(",", "")) for c in cells[1:]]
        except ValueError:
            continue
        metric = cells[0]
        if metric.startswith("Malloc (total)"):
            key = "malloc"
        elif metric.startswith("Time (wall clock)"):
            if "(ns)" not in metric:
                sys.exit(f"{path}: expected wall clock in ns, got {metric!r}")
            key = "wall_ns"
        else:
            continue
        if metric.rstrip().endswith("*"):
            sys.exit(f"{path}: metric {metric!r} is scaled; run the benchmark with --scale")
        current[key] = dict(zip(PERCENTILES, values))
    return results


def parse_swift_jmh(paths):
    """{benchmark: {"wall_ns": {p25, p50, p75, mean, samples}}} (per iteration) from JMH exports; the
    iterations of several files (rounds) are pooled."""
    pooled = {}
    for path in paths:
        text = ANSI.sub("", open(path, encoding="utf-8", errors="replace").read())
        start = text.find("[{")
        if start < 0:
            sys.exit(f"{path}: no JMH JSON found")
        for element in json.JSONDecoder().raw_decode(text[start:])[0]:
            name = element["benchmark"].split("WireBenchmarks.", 1)[-1]
            wall = element.get("secondaryMetrics", {}).get("Time (wall clock)")
            if wall is None:
                continue
            if wall.get("scoreUnit") != "μs":
                sys.exit(f"{path}: {name}: wall clock in {wall.get('scoreUnit')!r}, expected μs")
            pooled.setdefault(name, []).extend(v * 1000.0 for v in wall["rawData"][0])  # μs -> ns
    results = {}
    for name, values in pooled.items():
        values.sort()
        if not values:
            continue

        def pct(p):
            return values[min(len(values) - 1, int(round(p / 100.0 * (len(values) - 1))))]

        results[name] = {"wall_ns": {"p25": pct(25), "p50": pct(50), "p75": pct(75),
                                     "mean": statistics.fmean(values), "samples": len(values)}}
    return results


def parse_go(paths):
    """{benchmark: {unit: median}} plus run count and min/max ns/op, from `go test -bench` outputs (the
    runs of several files, rounds, are pooled)."""
    runs = {}
    lines = [line for path in paths for line in open(path, encoding="utf-8", errors="replace")]
    for line in lines:
        m = re.match(r"^Benchmark(\S+?)(-\d+)?\s+(\d+)\s+(.*)$", line.strip())
        if not m:
            continue
        fields = m.group(4).split()
        metrics = {fields[i + 1]: float(fields[i]) for i in range(0, len(fields) - 1, 2)}
        runs.setdefault(m.group(1), []).append(metrics)
    out = {}
    for name, rs in runs.items():
        units = {u for r in rs for u in r}
        out[name] = {u: statistics.median([r[u] for r in rs if u in r]) for u in units}
        out[name]["runs"] = len(rs)
        out[name]["ns_min"] = min(r["ns/op"] for r in rs)
        out[name]["ns_max"] = max(r["ns/op"] for r in rs)
    return out


def verdict(pooled, per_round, target):
    if pooled >= target and all(r >= target for r in per_round):
        return "met"
    if pooled >= target:
        return "met pooled, **not** in every round"
    return "**NOT met**"


def rate(v):
    return f"{v / 1e6:.2f} M"


def num(v, digits=1):
    return f"{v:,.{digits}f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--swift-jmh", required=True, action="append", help="JMH export of a timing run (one per round)")
    ap.add_argument("--swift", help="text output (--scale) of the malloc-count run")
    ap.add_argument("--go", action="append", default=[], help="go test -bench output of gobench/run.sh (one per round)")
    args = ap.parse_args()
    swift = parse_swift_jmh(args.swift_jmh)
    if args.swift:
        for name, metrics in parse_swift(args.swift).items():
            if "malloc" in metrics:
                swift.setdefault(name, {})["malloc"] = metrics["malloc"]
            if "wall_ns" in metrics:
                swift.setdefault(name, {})["wall_interposed"] = metrics["wall_ns"]
    go = parse_go(args.go) if args.go else {}
    rounds = []
    if args.go and len(args.go) == len(args.swift_jmh) and len(args.go) > 1:
        rounds = [(parse_swift_jmh([s]), parse_go([g])) for s, g in zip(args.swift_jmh, args.go)]
    missing = [p[0] for p in PAIRS if "wall_ns" not in swift.get(p[0], {})]
    if missing:
        sys.exit(f"{args.swift_jmh}: no timing for {', '.join(missing)}")

    def per(data, name, key):
        return data[name]["wall_ns"][key] / SWIFT_ITERATION

    def mallocs(name):
        m = swift[name].get("malloc")
        return f"{m['p50'] / SWIFT_ITERATION:.3f}" if m else "–"

    def decode_ratio(sw, g, sname, gname):
        return g[gname]["ns/row"] / per(sw, sname, "p50")

    def encode_ratio(sw, g, sname, gname):
        return g[gname]["ns/op"] / per(sw, sname, "p50")

    def round_cells(ratio, sname, gname):
        values = [ratio(sw, g, sname, gname) for sw, g in rounds if sname in sw and gname in g]
        return values, (", ".join(f"{v:.2f}×" for v in values) if values else "–")

    print("### Decode into owned values (one reused row)\n")
    print("| benchmark | go-dqlite rows/s, median run (ns/row) | Swift rows/s p50 (ns/row, p25..p75) "
          "| **Swift ÷ Go** | by round | go allocs/row | Swift mallocs/row | target ≥ 3× |")
    print("|---|---|---|---|---|---|---|---|")
    for sname, gname, kind, go_rows in PAIRS:
        if kind != "decode":
            continue
        p50, p25, p75 = (per(swift, sname, k) for k in ("p50", "p25", "p75"))
        swift_cell = f"{rate(1e9 / p50)} ({p50:.1f}, {p25:.1f}..{p75:.1f})"
        if gname in go:
            g = go[gname]
            pooled = decode_ratio(swift, go, sname, gname)
            values, by_round = round_cells(decode_ratio, sname, gname)
            cells = [f"{rate(g['rows/s'])} ({num(g['ns/row'])})", swift_cell, f"**{pooled:.2f}×**", by_round,
                     f"{g['allocs/op'] / go_rows:.3f}", mallocs(sname), verdict(pooled, values, DECODE_TARGET)]
        else:
            cells = ["–", swift_cell, "–", "–", "–", mallocs(sname), "(no Go run)"]
        print(f"| {sname} | " + " | ".join(cells) + " |")

    print("\n### Encode into a reused buffer\n")
    print("| benchmark | go-dqlite ns/op, median run | Swift ns/op p50 (p25..p75) | **Go ÷ Swift** | by round "
          "| go allocs/op | Swift mallocs/op | target ≥ 1× |")
    print("|---|---|---|---|---|---|---|---|")
    for sname, gname, kind, _ in PAIRS:
        if kind != "encode":
            continue
        p50, p25, p75 = (per(swift, sname, k) for k in ("p50", "p25", "p75"))
        swift_cell = f"{p50:.1f} ({p25:.1f}..{p75:.1f})"
        if gname in go:
            g = go[gname]
            pooled = encode_ratio(swift, go, sname, gname)
            values, by_round = round_cells(encode_ratio, sname, gname)
            cells = [num(g["ns/op"]), swift_cell, f"**{pooled:.2f}×**", by_round, f"{g['allocs/op']:.0f}",
                     mallocs(sname), verdict(pooled, values, ENCODE_TARGET)]
        else:
            cells = ["–", swift_cell, "–", "–", "–", mallocs(sname), "(no Go run)"]
        print(f"| {sname} | " + " | ".join(cells) + " |")

    print()
    print(f"Rounds: {len(args.swift_jmh)}.  ")
    if go:
        print("go-dqlite: runs per benchmark, ns/op min..max: "
              + "; ".join(f"{g} {go[g]['runs']}× {num(go[g]['ns_min'])}..{num(go[g]['ns_max'])}"
                          for _, g, _, _ in PAIRS if g in go) + ".  ")
    print("Swift: measured iterations (1000 rows or 1000 frames each), and the mean ns per row or frame "
          "(a mean well above the p50 means other work preempted the benchmark): "
          + "; ".join(f"{s} {swift[s]['wall_ns']['samples']}, mean {per(swift, s, 'mean'):.1f}"
                      for s, _, _, _ in PAIRS) + ".  ")
    if rounds:
        print("Swift p50 by round: "
              + "; ".join(f"{s} " + ", ".join(f"{per(sw, s, 'p50'):.1f}" for sw, _ in rounds if s in sw)
                          for s, _, _, _ in PAIRS) + ".  ")
    interposed = [(s, swift[s]["wall_interposed"]["p50"] / SWIFT_ITERATION)
                  for s, _, _, _ in PAIRS if "wall_interposed" in swift.get(s, {})]
    if interposed:
        print("Swift p50 with the malloc-counting interposer preloaded (the malloc-count run): "
              + "; ".join(f"{s} {v:.1f} ns" for s, v in interposed) + ".")


if __name__ == "__main__":
    main()
