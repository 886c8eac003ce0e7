import DqliteWire

/// libFuzzer target: the input is a ROWS body; rows are decoded lazily until the marker or an error.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRows(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let body = Array(UnsafeBufferPointer(start: data, count: size))
    guard var rows = try? RowsDecoder(body: body, limits: WireLimits(maxFrameBytes: 1 << 20)) else { return 0 }
    var row: [WireValue] = []
    var count = 0
    while (try? rows.next(into: &row)) == true {
        if row.count != rows.columns.count {
            fatalError("row has \(row.count) values for \(rows.columns.count) columns")
        }
        count += 1
    }
    if rows.marker != nil, count > 0 {
        // A complete frame must survive a re-encode.
        var again = try? RowsDecoder(body: body)
        guard let frame = try? again?.decodeAll(), let bytes = try? Response.rows(frame).encoded(),
            let reparsed = try? Frame(parsing: bytes), let decoded = try? Response(decoding: reparsed),
            decoded == .rows(frame)
        else { fatalError("ROWS body does not round-trip") }
    }
    return 0
}
