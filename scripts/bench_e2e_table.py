#!/usr/bin/env python3
"""The side-by-side tables of scripts/bench-e2e.sh (docs/benchmarks.md "End-to-end").

usage: bench_e2e_table.py OUT_DIR   (reads OUT_DIR/runs/rROUND.CASE.SIDE.json; prints Markdown)

A side's figure is the median over the rounds; "Swift / Go" divides the two medians; "by round" divides the two
runs of each round (they ran back to back, under the same spell of other work). A target counts as met only if
the ratio of the medians and every round's ratio meet it.
"""
import glob
import json
import os
import re
import statistics
import sys

out = sys.argv[1]
runs = {}  # (case, side) -> {round: data}
for path in glob.glob(os.path.join(out, "runs", "r*.json")):
    m = re.match(r"r(\d+)\.(.+)\.(swift|go|dqb)\.json$", os.path.basename(path))
    if not m:
        continue
    try:
        data = json.load(open(path))
    except (OSError, ValueError):
        continue
    runs.setdefault((m.group(2), m.group(3)), {})[int(m.group(1))] = data

def rate(case, data, side, metric="default"):
    """The figure compared for a case: committed rows/s for writes, rows/s for scans, operations/s otherwise;
    metric "writes": committed writes/s (for the read/write mixes)."""
    if metric == "writes":
        if side == "dqb":
            return data.get("exec", {}).get("ops_per_s", 0.0)
        return data.get("writes", 0) / data["seconds"] if data.get("seconds") else 0.0
    if side == "dqb":
        if case.startswith("dqb-kvwrite"):
            return data.get("exec", {}).get("ops_per_s", 0.0)
        return data.get("total_ops_per_s", 0.0)
    if case.startswith("dqb-kvwrite"):
        return data["rows_per_s"]
    if case.startswith("dqb-kvreadwrite"):
        return data["ops_per_s"]
    w = data["workload"]
    if w in ("scan", "sqlite-scan", "scan-wire", "scan-wire-quickack") or w in ("insert", "kvwrite"):
        return data["rows_per_s"]
    return data["ops_per_s"]


def rates(case, side, metric="default"):
    return {r: rate(case, d, side, metric) for r, d in runs.get((case, side), {}).items()}


def median(values):
    values = list(values)
    return statistics.median(values) if values else None


def fmt(x, digits=0):
    if x is None:
        return "–"
    if digits == 0:
        return f"{x:,.0f}"
    return f"{x:,.{digits}f}"


def ratio_cells(case_a, side_a, case_b, side_b, metric="default"):
    """(median ratio, per-round ratios) of a over b."""
    a, b = rates(case_a, side_a, metric), rates(case_b, side_b, metric)
    ma, mb = median(a.values()), median(b.values())
    total = ma / mb if ma and mb else None
    by_round = {r: a[r] / b[r] for r in sorted(a) if r in b and b[r]}
    return total, by_round


def by_round_text(by_round):
    return " ".join(f"{v:.2f}" for _, v in sorted(by_round.items())) or "–"


def latency(case, side):
    ds = list(runs.get((case, side), {}).values())
    if not ds:
        return "–"
    p50 = median(d["p50_us"] for d in ds)
    p99 = median(d["p99_us"] for d in ds)
    return f"{fmt(p50, 1 if p50 < 1000 else 0)} / {fmt(p99, 1 if p99 < 1000 else 0)}"


def errors(case, side):
    total = {}
    for d in runs.get((case, side), {}).values():
        for kind, n in d.get("errors", {}).items():
            total[kind] = total.get(kind, 0) + n
    if not total:
        return "0"
    return "; ".join(f"{n:,} {kind}" for kind, n in sorted(total.items(), key=lambda kv: -kv[1]))


def locked(case, side):
    return sum(
        n for d in runs.get((case, side), {}).values() for kind, n in d.get("errors", {}).items()
        if "locked" in kind or "SQLITE_BUSY" in kind)


def busy_retries(case):
    ds = runs.get((case, "swift"), {}).values()
    vals = [d["busy_retries"] for d in ds if "busy_retries" in d]
    return f"{sum(vals):,}" if vals else "–"


def checks(case, side):
    bad = [d.get("check", "") for d in runs.get((case, side), {}).values() if "MISMATCH" in d.get("check", "")]
    return bad


rounds = sorted({r for v in runs.values() for r in v})
print(f"Rounds: {len(rounds)} ({', '.join(map(str, rounds))}). Figures: median over rounds.\n")

MAIN = [
    ("point", "point selects/s, one connection, plain (QUERY_SQL)", "default"),
    ("point-prepared", "point selects/s, one connection, prepared (QUERY)", "default"),
    ("scan", "rows/s, 10k-row scan decoded into (Int, String, String)", "default"),
    ("insert-w1", "committed rows/s, autocommit INSERT, 1 worker", "default"),
    ("insert-w8", "committed rows/s, autocommit INSERT, 8 workers", "default"),
    ("kvwrite-w1", "committed writes/s, kvwrite, 1 worker", "default"),
    ("kvwrite-w8", "committed writes/s, kvwrite, 8 workers", "default"),
    ("kvreadwrite-w1", "operations/s (reads + writes), kvreadwrite, 1 worker", "default"),
    ("kvreadwrite-w1", "of which committed writes/s", "writes"),
    ("kvreadwrite-w8", "operations/s (reads + writes), kvreadwrite, 8 workers", "default"),
    ("kvreadwrite-w8", "of which committed writes/s", "writes"),
]
print("### Swift `Dqlite` vs go-dqlite `database/sql`, same cluster, same run\n")
print("| workload | figure | Swift | go-dqlite | **Swift / Go** | by round | Swift p50 / p99 µs | Go p50 / p99 µs "
      "| errors reaching the caller: Swift | Go | Swift busy retries (absorbed) |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for case, label, metric in MAIN:
    if not runs.get((case, "swift")) and not runs.get((case, "go")):
        continue
    total, by = ratio_cells(case, "swift", case, "go", metric)
    if metric == "writes":
        print(f"| | {label} | {fmt(median(rates(case, 'swift', metric).values()))} | "
              f"{fmt(median(rates(case, 'go', metric).values()))} | **{fmt(total, 2)}×** | {by_round_text(by)} "
              "| | | | | |")
        continue
    print(f"| `{case}` | {label} | {fmt(median(rates(case, 'swift').values()))} | "
          f"{fmt(median(rates(case, 'go').values()))} | **{fmt(total, 2)}×** | {by_round_text(by)} | "
          f"{latency(case, 'swift')} | {latency(case, 'go')} | {errors(case, 'swift')} | {errors(case, 'go')} | "
          f"{busy_retries(case) if case.startswith(('insert', 'kv')) else ''} |")
mismatches = [(c, s, m) for c, _, _ in MAIN for s in ("swift", "go") for m in checks(c, s)]
if mismatches:
    print("\nCOMMITTED-ROW CHECK MISMATCHES: " + "; ".join(f"{c} {s}: {m}" for c, s, m in mismatches))
else:
    print("\nEvery write run's table grew by exactly its successful writes (warm-up included) on both sides.")

print("\n### Scan references\n")
print("| reference | rows/s | Swift `scan` / reference | by round |")
print("|---|---|---|---|")
for case, side, label in [
    ("sqlite-scan", "swift", "in-process libsqlite3 3.40.1, `:memory:` (Swift, same table and decoding)"),
    ("sqlite-scan-wal", "swift", "in-process libsqlite3 3.40.1, WAL file, warm page cache"),
    ("scan-wire", "go", "the server's streaming rate: raw socket, frames read but not decoded"),
    ("scan-wire-quickack", "go", "the same, TCP_QUICKACK re-armed before each frame (no delayed ACKs)"),
    ("scan", "go", "go-dqlite `database/sql` scan"),
]:
    if not runs.get((case, side)):
        continue
    total, by = ratio_cells("scan", "swift", case, side)
    print(f"| {label} | {fmt(median(rates(case, side).values()))} | {fmt(total, 2)}× | {by_round_text(by)} |")

DQB = [(f"dqb-{wl}-w{w}", wl, w) for wl in ("kvwrite", "kvreadwrite") for w in (1, 8)]
if any(runs.get((c, "dqb")) or runs.get((c, "swift")) for c, _, _ in DQB):
    print("\n### Debian's `dqlite-benchmark` (own go-dqlite node) vs the Swift equivalent (`dqlite-node` cluster)\n")
    print("| workload | workers | figure | dqlite-benchmark | its errors | Swift | Swift errors | Swift busy retries "
          "| **Swift / dqlite-benchmark** | by round |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for case, wl, w in DQB:
        dq = runs.get((case, "dqb"), {})
        n_err = sum(v.get("n_err", 0) for d in dq.values() for v in d.values() if isinstance(v, dict))
        total, by = ratio_cells(case, "swift", case, "dqb")
        figure = "committed writes/s" if wl == "kvwrite" else "operations/s (reads + writes)"
        print(f"| {wl} | {w} | {figure} | {fmt(median(rates(case, 'dqb').values()))} | {n_err:,} | "
              f"{fmt(median(rates(case, 'swift').values()))} | {errors(case, 'swift')} | {busy_retries(case)} | "
              f"**{fmt(total, 2)}×** | {by_round_text(by)} |")
        if wl == "kvreadwrite":
            total, by = ratio_cells(case, "swift", case, "dqb", "writes")
            print(f"| | | of which committed writes/s | {fmt(median(rates(case, 'dqb', 'writes').values()))} | | "
                  f"{fmt(median(rates(case, 'swift', 'writes').values()))} | | | **{fmt(total, 2)}×** | "
                  f"{by_round_text(by)} |")

DIAG = [
    ("point-raw", "point", "bare `DqliteConnection` (no pool, session, routing, DqliteRow)"),
    ("point-nio", "point", "`point`, NIO event loops as the global executor"),
    ("point-prepared-nio", "point-prepared", "`point-prepared`, NIO event loops as the global executor"),
    ("scan-nio", "scan", "`scan`, NIO event loops as the global executor"),
    ("insert-w1-nio", "insert-w1", "`insert-w1`, NIO event loops as the global executor"),
    ("point-loop", "point", "`point`, opt-in `runsSessionsOnEventLoop`"),
    ("point-prepared-loop", "point-prepared", "`point-prepared`, opt-in `runsSessionsOnEventLoop`"),
    ("insert-w1-loop", "insert-w1", "`insert-w1`, opt-in `runsSessionsOnEventLoop`"),
    ("insert-w8-queue", "insert-w8", "`insert-w8`, opt-in `serializesWrites` (the client's FIFO write queue)"),
    ("insert-w8-gate", "insert-w8", "`insert-w8`, one write at a time through a FIFO gate in the benchmark"),
    ("scan-quickack", "scan", "`scan`, TCP_QUICKACK re-armed before every read (LD_PRELOAD shim)"),
]
if any(runs.get((c, "swift")) for c, _, _ in DIAG):
    print("\n### Diagnostics (Swift side only, same rounds)\n")
    print("| variant | figure | vs Swift default | vs go-dqlite | p50 / p99 µs | errors | busy retries |")
    print("|---|---|---|---|---|---|---|")
    for case, base, label in DIAG:
        if not runs.get((case, "swift")):
            continue
        t_self, b_self = ratio_cells(case, "swift", base, "swift")
        t_go, b_go = ratio_cells(case, "swift", base, "go")
        print(f"| {label} | {fmt(median(rates(case, 'swift').values()))} | {fmt(t_self, 2)}× ({by_round_text(b_self)}) "
              f"| {fmt(t_go, 2)}× ({by_round_text(b_go)}) | {latency(case, 'swift')} | {errors(case, 'swift')} | "
              f"{busy_retries(case) if case.startswith('insert') else ''} |")


def verdict(name, total, by, threshold, strict=False, extra_ok=True, extra=""):
    values = [total] + list(by.values())
    ok = total is not None and all((v > threshold) if strict else (v >= threshold) for v in values) and extra_ok
    op = ">" if strict else "≥"
    return (f"- **{name}: {'met' if ok else 'NOT met'}** — {fmt(total, 2)}× (by round {by_round_text(by)}), "
            f"target {op} {threshold}×{extra}")


print("\n### Targets\n")
for case, label in (("point", "point selects, plain"), ("point-prepared", "point selects, prepared")):
    t, b = ratio_cells(case, "swift", case, "go")
    print(verdict(f"{label} ≥ 1.5× go-dqlite", t, b, 1.5))
t, b = ratio_cells("scan", "swift", "scan", "go")
print(verdict("scan ≥ 2× go-dqlite rows/s", t, b, 2.0))
t, b = ratio_cells("scan", "swift", "sqlite-scan", "swift")
print(verdict("scan ≥ 80% of in-process SQLite (libsqlite3, :memory:)", t, b, 0.8))
t, b = ratio_cells("insert-w1", "swift", "insert-w1", "go")
print(verdict("inserts, 1 worker, at least equal", t, b, 1.0))
t, b = ratio_cells("insert-w8", "swift", "insert-w8", "go")
n_locked = locked("insert-w8", "swift")
print(verdict("inserts, 8 workers, more committed rows/s than go-dqlite", t, b, 1.0, strict=True,
              extra_ok=n_locked == 0,
              extra=f"; \"database is locked\" reaching the Swift caller: {n_locked} "
                    f"(go-dqlite: {locked('insert-w8', 'go'):,})"))
