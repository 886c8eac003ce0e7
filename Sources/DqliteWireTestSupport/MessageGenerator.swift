import DqliteWire

/// Deterministic random dqlite messages for property tests, the arm64/amd64 digest corpus and fuzz seeds.
///
/// Covers every request and response kind, both parameter-tuple schemas (with more than 255 parameters),
/// every value type, unicode text, extreme integers, `-0.0`, infinities, NaN payloads, empty and large
/// texts and blobs, 16/17-column rows and multi-frame row results. Everything it produces is encodable.
public struct MessageGenerator: Sendable {
    /// The random source.
    public var rng: SplitMix64

    /// Creates a generator from a seed.
    public init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    // MARK: - Scalars

    /// An integer biased towards edge cases.
    public mutating func int64() -> Int64 {
        switch rng.below(8) {
        case 0: return [Int64.min, Int64.max, 0, -1, 1, Int64.min + 1, Int64.max - 1][rng.below(7)]
        case 1: return Int64(rng.below(256)) - 128
        default: return Int64(bitPattern: rng.next())
        }
    }

    /// A `u64` biased towards edge cases.
    public mutating func uint64() -> UInt64 {
        switch rng.below(6) {
        case 0: return [0, 1, UInt64.max, UInt64(UInt32.max), 1 << 63][rng.below(5)]
        case 1: return UInt64(rng.below(1000))
        default: return rng.next()
        }
    }

    /// A `u32`.
    public mutating func uint32() -> UInt32 {
        rng.oneIn(4) ? [0, 1, UInt32.max][rng.below(3)] : UInt32(truncatingIfNeeded: rng.next())
    }

    /// A double: special values (±0, ±∞, NaNs with payloads, subnormals, extremes) or random bit patterns.
    public mutating func double() -> Double {
        switch rng.below(6) {
        case 0:
            let specials: [Double] = [
                0, -0.0, .infinity, -.infinity, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
                .leastNonzeroMagnitude, .leastNormalMagnitude, 0.1, -2.5, 1e-5, 1e16,
            ]
            return specials[rng.below(specials.count)]
        case 1:
            // A NaN with a random payload and sign: bit patterns must survive.
            let payload = (rng.next() & 0x000F_FFFF_FFFF_FFFF) | 1
            return Double(bitPattern: 0x7FF0_0000_0000_0000 | payload | (rng.oneIn(2) ? 1 << 63 : 0))
        case 2: return Double(rng.below(2_000_001) - 1_000_000) / 8
        default: return Double(bitPattern: rng.next())
        }
    }

    /// Text of a chosen length class: empty, the 7/8/15/16-byte word boundaries, short, long, or unicode.
    /// Never contains NUL (dqlite text cannot).
    public mutating func text() -> String {
        switch rng.below(10) {
        case 0: return ""
        case 1: return String(repeating: "x", count: [7, 8, 15, 16, 23, 24][rng.below(6)])
        case 2: return unicodeText(count: rng.below(40))
        case 3: return asciiText(count: 200 + rng.below(3000))
        default: return asciiText(count: rng.below(30))
        }
    }

    mutating func asciiText(count: Int) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        for _ in 0..<count { bytes.append(UInt8(1 + rng.below(126))) }
        return String(decoding: bytes, as: UTF8.self)
    }

    mutating func unicodeText(count: Int) -> String {
        // Scalars from several planes: Latin, Greek, CJK, emoji; never NUL or a surrogate.
        let ranges: [ClosedRange<UInt32>] = [
            0x01...0x7F, 0xA0...0x24F, 0x370...0x3FF, 0x4E00...0x9FFF, 0x1F300...0x1F64F,
        ]
        var scalars = String.UnicodeScalarView()
        for _ in 0..<count {
            let range = ranges[rng.below(ranges.count)]
            let value = range.lowerBound + UInt32(rng.below(Int(range.upperBound - range.lowerBound) + 1))
            if let scalar = Unicode.Scalar(value) { scalars.append(scalar) }
        }
        return String(scalars)
    }

    /// A node address: `host:port` forms, an abstract socket name, or short random text (addresses are
    /// capped by ``WireLimits/maxAddressBytes``, 1024 by default, so this stays well below).
    public mutating func address() -> String {
        switch rng.below(4) {
        case 0: return "127.0.0.1:\(rng.below(65536))"
        case 1: return "[::1]:\(rng.below(65536))"
        case 2: return "@dqlite-\(rng.below(1000))"
        default: return rng.oneIn(2) ? asciiText(count: rng.below(64)) : unicodeText(count: rng.below(16))
        }
    }

    /// A blob: empty, word-boundary sizes, or random.
    public mutating func blob() -> [UInt8] {
        let count: Int
        switch rng.below(6) {
        case 0: count = 0
        case 1: count = [1, 7, 8, 9, 16][rng.below(5)]
        case 2: count = 1000 + rng.below(5000)
        default: count = rng.below(40)
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        for _ in 0..<count { bytes.append(UInt8(truncatingIfNeeded: rng.next())) }
        return bytes
    }

    /// A value of any of the eight types.
    public mutating func value() -> WireValue {
        switch rng.below(8) {
        case 0: return .integer(int64())
        case 1: return .float(double())
        case 2: return .text(text())
        case 3: return .blob(blob())
        case 4: return .null
        case 5: return .unixTime(int64())
        case 6: return .iso8601(rng.oneIn(3) ? "" : "2024-01-02 03:04:05.\(rng.below(1_000_000))+00:00")
        default: return .boolean(rng.oneIn(2))
        }
    }

    /// Parameters: none, a few, the 7/8 header boundary, up to 255, or more than 255 (schema 1 only).
    public mutating func parameters(allowWide: Bool) -> [WireValue] {
        let count: Int
        switch rng.below(10) {
        case 0: count = 0
        case 1: count = [7, 8, 3, 4, 5][rng.below(5)]
        case 2: count = allowWide ? 256 + rng.below(300) : 255
        default: count = 1 + rng.below(12)
        }
        var values: [WireValue] = []
        values.reserveCapacity(count)
        for _ in 0..<count { values.append(value()) }
        return values
    }

    // MARK: - Messages

    /// A random request of any type.
    public mutating func request() -> Request {
        switch rng.below(21) {
        case 0: return .leader
        case 1: return .client(id: uint64())
        case 2: return .heartbeat(timestamp: uint64())
        case 3: return .open(database: text(), flags: uint64(), vfs: rng.oneIn(2) ? "volatile" : text())
        case 4: return .prepare(db: uint64(), sql: text(), schema: UInt8(rng.below(2)))
        case 5, 6:
            let wide = rng.oneIn(2)
            let params = parameters(allowWide: wide)
            let call = StatementCall(db: uint32(), stmt: uint32(), parameters: params, schema: wide ? .v1 : .v0)
            return rng.oneIn(2) ? .exec(call) : .query(call)
        case 7: return .finalize(db: uint32(), stmt: uint32())
        case 8, 9:
            let wide = rng.oneIn(2)
            let params = parameters(allowWide: wide)
            let call = SQLCall(db: uint64(), sql: text(), parameters: params, schema: wide ? .v1 : .v0)
            return rng.oneIn(2) ? .execSQL(call) : .querySQL(call)
        case 10: return .interrupt(db: uint64())
        case 11: return .connect(id: uint64(), address: address())
        case 12: return .add(id: uint64(), address: address())
        case 13: return .assign(id: uint64(), role: uint64())
        case 14: return .promote(id: uint64())
        case 15: return .remove(id: uint64())
        case 16: return .dump(database: text())
        case 17: return .cluster(format: uint64())
        case 18: return .transfer(id: uint64())
        case 19: return .describe(format: uint64())
        default: return .weight(uint64())
        }
    }

    /// A random response of any type (a single ROWS frame; see ``rowsResult()`` for multi-frame results).
    public mutating func response() -> Response {
        switch rng.below(12) {
        case 0: return .failure(code: uint64(), message: text())
        case 1: return .server(id: uint64(), address: address())
        case 2: return .serverLegacy(address: address())
        case 3: return .welcome(heartbeatTimeout: uint64())
        case 4:
            let withRoles = rng.oneIn(2)
            var nodes: [NodeInfo] = []
            for _ in 0..<rng.below(6) {
                nodes.append(NodeInfo(id: uint64(), address: address(), role: withRoles ? uint64() : nil))
            }
            return .servers(nodes)
        case 5: return .db(id: uint32())
        case 6:
            return .stmt(db: uint32(), id: uint32(), parameters: uint64(), tailOffset: rng.oneIn(2) ? uint64() : nil)
        case 7: return .result(lastInsertID: uint64(), rowsAffected: uint64())
        case 8: return .rows(rowsFrame(columns: columnNames(), more: rng.oneIn(3)))
        case 9: return .empty
        case 10:
            var files: [DumpFile] = []
            for _ in 0..<rng.below(3) {
                var data: [UInt8] = []
                for _ in 0..<(8 * rng.below(20)) { data.append(UInt8(truncatingIfNeeded: rng.next())) }
                files.append(DumpFile(name: text(), data: data))
            }
            return .files(files)
        default: return .metadata(failureDomain: uint64(), weight: uint64())
        }
    }

    /// Column names: none (zero-column result), the 16/17 header boundary, or a random count.
    public mutating func columnNames() -> [String] {
        let count: Int
        switch rng.below(8) {
        case 0: count = 0
        case 1: count = [16, 17, 1, 2][rng.below(4)]
        default: count = 1 + rng.below(8)
        }
        var names: [String] = []
        for index in 0..<count { names.append(rng.oneIn(4) ? text() : "c\(index)") }
        return names
    }

    /// One ROWS frame with those columns (zero columns means no rows).
    public mutating func rowsFrame(columns: [String], more: Bool) -> RowsFrame {
        var rows: [[WireValue]] = []
        if !columns.isEmpty {
            for _ in 0..<rng.below(6) {
                var row: [WireValue] = []
                for _ in columns { row.append(value()) }
                rows.append(row)
            }
        }
        return RowsFrame(columns: columns, rows: rows, more: more)
    }

    /// A multi-frame result: 2–5 frames with the same columns, PART on all but the last.
    public mutating func rowsResult() -> [Response] {
        var columns = columnNames()
        if columns.isEmpty { columns = ["id"] }
        let frames = 2 + rng.below(4)
        return (0..<frames).map { index in .rows(rowsFrame(columns: columns, more: index < frames - 1)) }
    }
}
