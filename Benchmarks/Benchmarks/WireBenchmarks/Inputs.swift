import DqliteWire

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The shared benchmark inputs (`Benchmarks/Inputs/*.hex`, see its README), found relative to this source
/// file so that the benchmarks run from any working directory. Everything here runs once, before any
/// measurement; any surprise stops the run with a message instead of measuring the wrong thing.
enum Inputs {
    /// `Benchmarks/Inputs/`, from `Benchmarks/Benchmarks/WireBenchmarks/Inputs.swift`.
    static let directory: String = {
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)  // Inputs.swift, WireBenchmarks, Benchmarks
        return parts.joined(separator: "/") + "/Inputs"
    }()

    /// The frames of one input file (one hex-encoded frame per line), as raw bytes.
    static func frameBytes(_ name: String) -> [[UInt8]] {
        let path = directory + "/" + name
        guard let file = fopen(path, "rb") else { fail("cannot open \(path)") }
        defer { fclose(file) }
        var text: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
            if n == 0 { break }
            text.append(contentsOf: chunk[0..<n])
        }
        var frames: [[UInt8]] = []
        for line in text.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
            guard line.count % 2 == 0 else { fail("\(name): odd number of hex digits") }
            var bytes: [UInt8] = []
            bytes.reserveCapacity(line.count / 2)
            var index = line.startIndex
            while index < line.endIndex {
                bytes.append(hexDigit(line[index], name) << 4 | hexDigit(line[index + 1], name))
                index += 2
            }
            frames.append(bytes)
        }
        guard !frames.isEmpty else { fail("\(name): no frames") }
        return frames
    }

    /// The frames of one input file, parsed (header checked, body split off).
    static func frames(_ name: String) -> [Frame] {
        frameBytes(name).map { bytes in
            do { return try Frame(parsing: bytes) } catch { fail("\(name): \(error)") }
        }
    }

    private static func hexDigit(_ c: UInt8, _ name: String) -> UInt8 {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: fail("\(name): not a hex digit: \(c)")
        }
    }
}

/// Stops the benchmark run loudly: a benchmark on wrong bytes is worse than none.
func fail(_ message: String) -> Never {
    fatalError("WireBenchmarks: \(message)")
}

// MARK: - What the inputs must decode to and encode from (Inputs/README.md)

/// Row k of the ROWS fixtures: (k, k*0.5, "row-<k>-padding-text", NULL, 16 bytes all k & 0xff).
func expectedRow(_ k: Int) -> [WireValue] {
    [
        .integer(Int64(k)), .float(Double(k) * 0.5), .text("row-\(k)-padding-text"), .null,
        .blob([UInt8](repeating: UInt8(truncatingIfNeeded: k), count: 16)),
    ]
}

/// The EXEC_SQL of encode_exec_sql.hex.
let execCall = SQLCall(
    db: 0, sql: "INSERT INTO t(i,f,s,n,b) VALUES (?,?,?,?,?)",
    parameters: [.integer(1), .float(2.5), .text("hello world"), .null, .blob([1, 2, 3])])

/// The QUERY_SQL of encode_query_sql_100params.hex: 100 integer parameters 1...100.
let query100Call = SQLCall(
    db: 0, sql: "SELECT i,f,s,n,b FROM t WHERE i IN (" + Array(repeating: "?", count: 100).joined(separator: ",") + ")",
    parameters: (1...100).map { .integer(Int64($0)) })

/// Decodes every row of `frames` (following PART markers to the next frame), checks each against
/// ``expectedRow(_:)`` and the frame/marker structure; returns the number of rows.
func verifyDecode(_ frames: [Frame], name: String, expectedRows: Int) -> Int {
    var k = 1
    var row: [WireValue] = []
    do {
        for (index, frame) in frames.enumerated() {
            var rows = try RowsDecoder(frame: frame)
            guard rows.columns == ["i", "f", "s", "n", "b"] else { fail("\(name): columns \(rows.columns)") }
            while try rows.next(into: &row) {
                guard row == expectedRow(k) else { fail("\(name): row \(k) is \(row), want \(expectedRow(k))") }
                k += 1
            }
            let last = index == frames.count - 1
            guard rows.marker == (last ? .done : .part) else {
                fail("\(name): frame \(index) ends with \(String(describing: rows.marker))")
            }
        }
    } catch {
        fail("\(name): \(error)")
    }
    guard k - 1 == expectedRows else { fail("\(name): decoded \(k - 1) rows, want \(expectedRows)") }
    return k - 1
}

/// Encodes `call` with a fresh ``FrameEncoder`` and checks the bytes against the input file's frame.
func verifyEncode(_ call: SQLCall, query: Bool, file: String) {
    let expected = Inputs.frameBytes(file)
    guard expected.count == 1 else { fail("\(file): \(expected.count) frames, want 1") }
    var encoder = FrameEncoder()
    do { try encoder.append(call, query: query) } catch { fail("\(file): encoding failed: \(error)") }
    let got = encoder.bytes
    guard got == expected[0] else {
        let at = zip(got, expected[0]).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        let position = at.map { "byte \($0)" } ?? "the end"
        fail("\(file): the \(got.count) encoded bytes differ from the \(expected[0].count) expected, at \(position)")
    }
}
