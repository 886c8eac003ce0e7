// DqliteWire codec benchmarks on the bytes of go-dqlite 1.11.5's own codec benchmark (Inputs/README.md),
// so that `scripts/bench-codec.sh` can put both side by side.
//
// Units. Every decode benchmark does exactly 1000 rows per measured iteration (20 × the 50-row page, or
// the 20 frames of the 1000-row result) with `scalingFactor: .kilo`, so the default (scaled) output is
// *per row*: wall clock ns/row, throughput rows/s, mallocs/row. Every encode benchmark encodes one frame per
// scaled iteration, 1000 per measured iteration: scaled output is per frame. `--scale` prints the raw
// per-iteration figures instead (per 1000 rows / per 1000 frames), which keeps fractional malloc counts
// (e.g. the one column-name array per frame) visible.
//
// What is (not) measured. Frames are read from the hex files and parsed (`Frame(parsing:)`) once, before
// any measurement, like go-dqlite's benchmark which points its Message at in-memory frames. Decoding is
// `RowsDecoder(frame:)` (column names) + `next(into:)` for every row into one reused `[WireValue]`: owned
// values (Int64, Double, String, [UInt8], null), as go-dqlite's `Rows.Next` fills a reused `[]driver.Value`.
// Encoding is `FrameEncoder.reset()` + `append(_:query:)` into one reused encoder, as go-dqlite reuses
// one Message. Every input is decoded/encoded and checked once before measuring; a mismatch stops the run.

import Benchmark
import DqliteWire

/// State reused across measured iterations (a class so the benchmark closures can share it; every
/// benchmark runs on one thread).
final class Reused: @unchecked Sendable {
    var row: [WireValue] = []
    var encoder = FrameEncoder()
}

/// Decodes every row of `frames` into `row`, `repeats` times; returns the rows decoded plus a checksum
/// of the integer column (so nothing can be optimised away; go-dqlite's benchmark does the same).
@inline(__always)
func decodeAll(_ frames: [Frame], repeats: Int, into row: inout [WireValue]) throws -> Int64 {
    var sink: Int64 = 0
    for _ in 0..<repeats {
        for frame in frames {
            var rows = try RowsDecoder(frame: frame)
            while try rows.next(into: &row) {
                if case .integer(let v) = row[0] { sink &+= v }
                sink &+= 1 << 32
            }
        }
    }
    return sink
}

let rowsPerIteration = 1000

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        timeUnits: .nanoseconds,
        warmupIterations: 10,
        scalingFactor: .kilo,
        maxDuration: .seconds(3),
        maxIterations: 100_000
    )

    // MARK: decode

    let page = Inputs.frames("decode_rows_page.hex")
    let strict = Inputs.frames("decode_rows_1000.hex")
    let server = Inputs.frames("decode_rows_1000_server.hex")
    guard page.count == 1, strict.count == 20, server.count == 20 else {
        fail("unexpected frame counts \(page.count)/\(strict.count)/\(server.count)")
    }
    let pageRows = verifyDecode(page, name: "decode_rows_page.hex", expectedRows: 50)
    _ = verifyDecode(strict, name: "decode_rows_1000.hex", expectedRows: rowsPerIteration)
    _ = verifyDecode(server, name: "decode_rows_1000_server.hex", expectedRows: rowsPerIteration)

    let state = Reused()
    state.row.reserveCapacity(5)

    func decodeBenchmark(_ name: String, _ frames: [Frame], repeats: Int) {
        Benchmark(name) { benchmark in
            var row: [WireValue] = []
            swap(&row, &state.row)  // a plain local for the loop; no copy, no allocation
            defer { swap(&row, &state.row) }
            do {
                let sink = try decodeAll(frames, repeats: repeats, into: &row)
                guard sink >> 32 == rowsPerIteration else { fail("\(name): decoded \(sink >> 32) rows") }
                blackHole(sink)
            } catch {
                fail("\(name): \(error)")
            }
        }
    }

    // One ~4 KiB ROWS page (50 rows, DONE), decoded 20 times per iteration = 1000 rows.
    decodeBenchmark("decode.rowsPage", page, repeats: rowsPerIteration / pageRows)
    // 1000 rows as a dqlite server splits them: 19 PART frames of 51 rows + a DONE frame of 31.
    decodeBenchmark("decode.rows1000.server", server, repeats: 1)
    // 1000 rows, strict split (every body ≤ 4096 bytes): 20 frames of 50.
    decodeBenchmark("decode.rows1000", strict, repeats: 1)

    // MARK: encode

    verifyEncode(execCall, query: false, file: "encode_exec_sql.hex")
    verifyEncode(query100Call, query: true, file: "encode_query_sql_100params.hex")
    // Warm the reused encoder to its working size outside the measurement (the buffer only grows).
    do {
        try state.encoder.append(query100Call, query: true)
        state.encoder.reset()
    } catch {
        fail("encoder warm-up: \(error)")
    }

    func encodeBenchmark(_ name: String, _ call: SQLCall, query: Bool) {
        Benchmark(name) { benchmark in
            var encoder = FrameEncoder(capacity: 0)
            swap(&encoder, &state.encoder)
            defer { swap(&encoder, &state.encoder) }
            do {
                for _ in benchmark.scaledIterations {
                    encoder.reset()
                    try encoder.append(call, query: query)
                    blackHole(encoder.count)
                }
            } catch {
                fail("\(name): \(error)")
            }
        }
    }

    // EXEC_SQL, db 0, "INSERT INTO t(i,f,s,n,b) VALUES (?,?,?,?,?)", 5 params (int, float, text, null, blob).
    encodeBenchmark("encode.execSQL", execCall, query: false)
    // QUERY_SQL, db 0, "SELECT … WHERE i IN (?,…,?)", 100 integer params.
    encodeBenchmark("encode.querySQL100", query100Call, query: true)
}
