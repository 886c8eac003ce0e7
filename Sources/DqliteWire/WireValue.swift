/// One parameter or row cell as it travels on the wire.
///
/// Floats compare and hash by bit pattern, so NaN payloads and `-0.0` survive a round trip exactly and
/// `WireValue` equality is a true "same bytes" relation.
public enum WireValue: Sendable, Hashable, CustomStringConvertible {
    case integer(Int64)
    case float(Double)
    case text(String)
    case blob([UInt8])
    case null
    case unixTime(Int64)
    case iso8601(String)
    case boolean(Bool)

    /// The type code written in tuple headers.
    @inlinable
    public var type: ValueType {
        switch self {
        case .integer: return .integer
        case .float: return .float
        case .text: return .text
        case .blob: return .blob
        case .null: return .null
        case .unixTime: return .unixTime
        case .iso8601: return .iso8601
        case .boolean: return .boolean
        }
    }

    /// Bytes this value takes on the wire (after the tuple header).
    @inlinable
    var encodedLength: Int {
        switch self {
        case .integer, .float, .null, .unixTime, .boolean: return 8
        case .text(let s), .iso8601(let s): return (s.utf8.count &+ 8) & ~7
        case .blob(let b): return 8 &+ ((b.count &+ 7) & ~7)
        }
    }

    public static func == (lhs: WireValue, rhs: WireValue) -> Bool {
        switch (lhs, rhs) {
        case (.integer(let a), .integer(let b)): return a == b
        case (.float(let a), .float(let b)): return a.bitPattern == b.bitPattern
        case (.text(let a), .text(let b)): return a == b
        case (.blob(let a), .blob(let b)): return a == b
        case (.null, .null): return true
        case (.unixTime(let a), .unixTime(let b)): return a == b
        case (.iso8601(let a), .iso8601(let b)): return a == b
        case (.boolean(let a), .boolean(let b)): return a == b
        default: return false
        }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(type)
        switch self {
        case .integer(let v), .unixTime(let v): hasher.combine(v)
        case .float(let v): hasher.combine(v.bitPattern)
        case .text(let v), .iso8601(let v): hasher.combine(v)
        case .blob(let v): hasher.combine(v)
        case .null: break
        case .boolean(let v): hasher.combine(v)
        }
    }

    public var description: String {
        switch self {
        case .integer(let v): return "\(v)"
        case .float(let v): return "\(v)"
        case .text(let v): return "\"\(v)\""
        case .blob(let v): return "x'" + v.map { hexByte($0) }.joined() + "'"
        case .null: return "NULL"
        case .unixTime(let v): return "unixtime(\(v))"
        case .iso8601(let v): return "iso8601(\"\(v)\")"
        case .boolean(let v): return v ? "true" : "false"
        }
    }
}

/// Two lowercase hex digits.
func hexByte(_ byte: UInt8) -> String {
    let digits: [Character] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "a", "b", "c", "d", "e", "f"]
    return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
}

extension WireReader {
    /// Reads one value of the given type code; `typeOffset` locates the code for error messages.
    @inlinable @inline(__always)
    mutating func readValue(type code: UInt8, typeOffset: Int, limits: WireLimits) throws -> WireValue {
        switch code {
        case 1: return .integer(Int64(bitPattern: try readUInt64("integer value")))
        case 2: return .float(Double(bitPattern: try readUInt64("float value")))
        case 3: return .text(try readText("text value", maxBytes: limits.maxTextBytes))
        case 4: return .blob(try readBlob("blob value", maxBytes: limits.maxBlobBytes))
        case 5:
            try skip(8, "null value")
            return .null
        case 9: return .unixTime(Int64(bitPattern: try readUInt64("unixtime value")))
        case 10: return .iso8601(try readText("iso8601 value", maxBytes: limits.maxTextBytes))
        case 11: return .boolean(try readUInt64("boolean value") != 0)
        default:
            throw WireError(.invalidValueType, at: typeOffset, "value type code \(code) is not a dqlite type")
        }
    }
}

extension WireWriter {
    /// Writes a value's bytes (not its type code).
    @inlinable
    mutating func writeValue(_ value: WireValue) throws {
        switch value {
        case .integer(let v), .unixTime(let v): writeUInt64(UInt64(bitPattern: v))
        case .float(let v): writeUInt64(v.bitPattern)
        case .text(let v): try writeText(v, "text value")
        case .iso8601(let v): try writeText(v, "iso8601 value")
        case .blob(let v): writeBlob(v)
        case .null: writeUInt64(0)
        case .boolean(let v): writeUInt64(v ? 1 : 0)
        }
    }
}
