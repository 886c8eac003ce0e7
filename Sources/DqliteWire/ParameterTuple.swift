/// Which parameter-tuple layout a request uses; it is the request header's schema byte.
///
/// - ``v0``: a 1-byte count (at most 255 values), one type byte per value, zero padding to a word.
///   Every server understands it.
/// - ``v1``: a `u32` count, one type byte per value, zero padding to a word. Servers from 1.12.0 only;
///   1.11.1 misreads it.
public enum ParameterTupleSchema: UInt8, Hashable, Sendable {
    case v0 = 0
    case v1 = 1

    /// The layout go-dqlite and this SDK send: ``v0`` for up to 255 values, ``v1`` above.
    @inlinable
    public static func automatic(forCount count: Int) -> ParameterTupleSchema {
        count <= 255 ? .v0 : .v1
    }
}

extension WireSize {
    /// Size of a parameter tuple (0 when empty: the tuple is left out). Throws if the count does not fit.
    @inlinable
    static func parameters(_ parameters: [WireValue], schema: ParameterTupleSchema) throws -> Int {
        if parameters.isEmpty { return 0 }
        let countBytes: Int
        switch schema {
        case .v0:
            guard parameters.count <= 255 else {
                throw WireError(
                    .unencodable, at: 0,
                    "\(parameters.count) parameters do not fit a schema-0 tuple (at most 255); use schema 1")
            }
            countBytes = 1
        case .v1:
            guard parameters.count <= Int(UInt32.max) else {
                throw WireError(.unencodable, at: 0, "\(parameters.count) parameters do not fit a schema-1 tuple")
            }
            countBytes = 4
        }
        var size = padded(countBytes &+ parameters.count)
        for index in parameters.indices { size &+= parameters[index].encodedLength }
        return size
    }
}

extension WireWriter {
    /// Writes a parameter tuple (sized by ``WireSize/parameters(_:schema:)``). An empty tuple is left out
    /// entirely, as go-dqlite and the C client do.
    @inlinable
    mutating func writeParameters(_ parameters: [WireValue], schema: ParameterTupleSchema) throws {
        let count = parameters.count
        if count == 0 { return }
        let origin = position
        switch schema {
        case .v0:
            guard count <= 255 else {
                throw WireError(
                    .unencodable, at: 0, "\(count) parameters do not fit a schema-0 tuple (at most 255); use schema 1")
            }
            writeUInt8(UInt8(truncatingIfNeeded: count))
        case .v1:
            guard count <= Int(UInt32.max) else {
                throw WireError(.unencodable, at: 0, "\(count) parameters do not fit a schema-1 tuple")
            }
            writeUInt32(UInt32(truncatingIfNeeded: count))
        }
        // One pass: each value's type byte goes into the header, its bytes after the header.
        var typeCursor = position
        position = typeCursor &+ count
        padToWord(from: origin)
        let fits = position <= raw.count
        for index in 0..<count {
            // Switching on the element in place (no copy into a local) avoids retaining each payload.
            let code: UInt8
            switch parameters[index] {
            case .integer(let v):
                code = ValueType.integer.rawValue
                writeUInt64(UInt64(bitPattern: v))
            case .float(let v):
                code = ValueType.float.rawValue
                writeUInt64(v.bitPattern)
            case .text(let v):
                code = ValueType.text.rawValue
                try writeText(v, "text value")
            case .blob(let v):
                code = ValueType.blob.rawValue
                writeBlob(v)
            case .null:
                code = ValueType.null.rawValue
                writeUInt64(0)
            case .unixTime(let v):
                code = ValueType.unixTime.rawValue
                writeUInt64(UInt64(bitPattern: v))
            case .iso8601(let v):
                code = ValueType.iso8601.rawValue
                try writeText(v, "iso8601 value")
            case .boolean(let v):
                code = ValueType.boolean.rawValue
                writeUInt64(v ? 1 : 0)
            }
            if fits { raw[typeCursor] = code }
            typeCursor &+= 1
        }
    }
}

extension WireReader {
    /// Reads a parameter tuple, which is always the last field of a body. No bytes left means no parameters.
    @inlinable
    mutating func readParameters(schema: ParameterTupleSchema, limits: WireLimits) throws -> [WireValue] {
        if remaining == 0 { return [] }
        let countOffset = offset
        let raw: UInt64
        switch schema {
        case .v0: raw = UInt64(try readUInt8("parameter count"))
        case .v1: raw = UInt64(try readUInt32("parameter count"))
        }
        // Each parameter needs one type byte and at least one 8-byte value word.
        let count = try checkCount(
            raw, "parameter count", at: countOffset, limit: limits.maxParameters, minimumItemBytes: 9)
        let typesStart = position
        position &+= count
        try skipToWordBoundary("parameter tuple header padding")
        var values: [WireValue] = []
        values.reserveCapacity(count)
        for index in 0..<count {
            let code = bytes[typesStart &+ index]
            values.append(try readValue(type: code, typeOffset: base &+ typesStart &+ index, limits: limits))
        }
        return values
    }
}
