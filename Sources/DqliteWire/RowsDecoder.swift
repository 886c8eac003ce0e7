/// Decodes the rows of one ROWS frame lazily, one row at a time, straight from the frame's bytes.
///
/// ```swift
/// var rows = try RowsDecoder(frame: frame)
/// var row: [WireValue] = []
/// while try rows.next(into: &row) { … }   // reuses `row`'s storage
/// if rows.marker == .part { /* read the next frame */ }
/// ```
///
/// Nothing is copied out of the frame except the cell values themselves: integer, float, null, boolean
/// and unixtime cells allocate nothing; a text or blob cell allocates its one `String`/`[UInt8]` (short
/// texts of up to 15 UTF-8 bytes are stored inline by Swift and allocate nothing either).
///
/// Rules enforced (a hostile server cannot make the decoder trap or over-allocate):
/// the column count is checked against ``WireLimits/maxColumns`` and the bytes present; each row header
/// holds one 4-bit type code per column, low nibble first; only the eight defined type codes are
/// accepted; the PART/DONE marker is compared as a whole word and must be the frame's last word;
/// a zero-column frame must hold the marker right after the count. After an error every later call
/// throws the same error.
public struct RowsDecoder: Sendable {
    /// Column names.
    public let columns: [String]
    /// The marker that ended the frame, once reached (nil while rows remain).
    public private(set) var marker: RowsMarker?

    private let body: [UInt8]
    private let bodyOffset: Int
    private let limits: WireLimits
    private var position: Int
    private var failure: WireError?

    /// Starts decoding a ROWS frame.
    public init(frame: Frame, limits: WireLimits = .default) throws {
        guard frame.header.type == ResponseType.rows.rawValue else {
            throw WireError(
                .unknownMessageType, at: frame.offset &+ 4, "expected a ROWS frame, got type \(frame.header.type)")
        }
        guard frame.header.schema == 0 else {
            throw WireError(.unsupportedSchema, at: frame.offset &+ 5, "ROWS has no schema \(frame.header.schema)")
        }
        try self.init(body: frame.body, bodyOffset: frame.bodyOffset, limits: limits)
    }

    /// Starts decoding a ROWS body whose first byte is at stream offset `bodyOffset`.
    public init(body: [UInt8], bodyOffset: Int = FrameHeader.size, limits: WireLimits = .default) throws {
        let (columns, position) = try body.withUnsafeBytes { raw in
            var r = WireReader(raw, base: bodyOffset)
            // A column needs at least one 8-byte name word.
            let count = try r.readCount("column count", limit: limits.maxColumns, minimumItemBytes: 8)
            var names: [String] = []
            names.reserveCapacity(count)
            for _ in 0..<count {
                names.append(try r.readText("column name", maxBytes: limits.maxNameBytes))
            }
            return (names, r.position)
        }
        self.columns = columns
        self.body = body
        self.bodyOffset = bodyOffset
        self.limits = limits
        self.position = position
    }

    /// Decodes the next row into `row` (replacing its contents, reusing its storage).
    /// Returns false once the end marker has been reached.
    public mutating func next(into row: inout [WireValue]) throws -> Bool {
        if let failure { throw failure }
        if marker != nil { return false }
        let body = self.body
        let columnCount = columns.count
        let limits = self.limits
        let base = bodyOffset
        var position = self.position
        do {
            let ended: RowsMarker? = try body.withUnsafeBytes { raw in
                var r = WireReader(raw, base: base, position: position)
                defer { position = r.position }
                if let word = r.peekUInt64(), let marker = RowsMarker(rawValue: word) {
                    r.position &+= 8
                    try r.expectEnd("ROWS frame's end marker; the marker must be the last word")
                    return marker
                }
                guard r.remaining >= 8 else {
                    throw WireError(.truncated, at: r.offset, "ROWS frame ends without a PART or DONE marker")
                }
                guard columnCount > 0 else {
                    throw WireError(.invalidMarker, at: r.offset, "zero-column ROWS frame does not end with a marker")
                }
                let headerStart = r.position
                let headerLength = (((columnCount &+ 1) >> 1) &+ 7) & ~7
                guard r.remaining >= headerLength else {
                    throw WireError(
                        .truncated, at: r.offset, "row header needs \(headerLength) bytes, \(r.remaining) left")
                }
                r.position &+= headerLength
                if row.count != columnCount {
                    row.removeAll(keepingCapacity: true)
                    row.append(contentsOf: repeatElement(WireValue.null, count: columnCount))
                }
                // Overwrite in place: each old value is released as its slot is reassigned.
                try row.withUnsafeMutableBufferPointer { cells in
                    for column in 0..<columnCount {
                        let byteIndex = headerStart &+ (column >> 1)
                        let byte = raw[byteIndex]
                        let code = column & 1 == 0 ? byte & 0x0F : byte >> 4
                        if code == ValueType.blob.rawValue, case .blob = cells[column] {
                            // Reuse the previous row's blob storage when nobody else holds it: no allocation.
                            let previous = cells[column]
                            cells[column] = .null
                            guard case .blob(var bytes) = consume previous else { continue }
                            let range = try r.readBlobRange("blob value", maxBytes: limits.maxBlobBytes)
                            let source = UnsafeRawBufferPointer(rebasing: raw[range])
                            if bytes.count == source.count {
                                bytes.withUnsafeMutableBytes { $0.copyMemory(from: source) }
                            } else {
                                bytes.removeAll(keepingCapacity: true)
                                bytes.append(contentsOf: source)
                            }
                            cells[column] = .blob(bytes)
                        } else {
                            cells[column] = try r.readValue(type: code, typeOffset: base &+ byteIndex, limits: limits)
                        }
                    }
                }
                return nil
            }
            self.position = position
            if let ended {
                marker = ended
                return false
            }
            return true
        } catch let error as WireError {
            failure = error
            throw error
        }
    }

    /// Decodes the next row, or returns nil at the end marker.
    public mutating func next() throws -> [WireValue]? {
        var row: [WireValue] = []
        row.reserveCapacity(columns.count)
        return try next(into: &row) ? row : nil
    }

    /// Decodes every remaining row and the marker.
    public mutating func decodeAll() throws -> RowsFrame {
        var rows: [[WireValue]] = []
        while let row = try next() { rows.append(row) }
        return RowsFrame(columns: columns, rows: rows, more: marker == .part)
    }
}
