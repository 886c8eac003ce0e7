import DqliteWire

extension WireValue {
    /// The value in the dissector's JSON form (see the Golden vectors README).
    public func json(_ rendering: JSONRendering = .dissector) -> JSONValue {
        switch self {
        case .integer(let v): return .integer(v)
        case .float(let v):
            if v.isNaN {
                if rendering == .exact {
                    return .object([.init("float_bits", .string(hexOfUInt64(v.bitPattern)))])
                }
                return .string("NaN")
            }
            if v.isInfinite { return .string(v < 0 ? "-Infinity" : "Infinity") }
            return .number(v.description)
        case .text(let s): return .string(s)
        case .blob(let b): return .object([.init("blob", .string(hexString(b)))])
        case .null: return .null
        case .unixTime(let v): return .object([.init("unixtime", .integer(v))])
        case .iso8601(let s): return .object([.init("iso8601", .string(s))])
        case .boolean(let b): return .bool(b)
        }
    }

    /// Builds a value from its JSON form. The strings `"NaN"`, `"Infinity"` and `"-Infinity"` are read as
    /// floats (the dissector format cannot tell them from text with those exact contents).
    public init(json: JSONValue) throws {
        switch json {
        case .null: self = .null
        case .bool(let b): self = .boolean(b)
        case .number(let text):
            if JSONValue.isIntegerText(text) {
                guard let v = Int64(text) else { throw JSONError("integer value \(text) does not fit in 64 bits") }
                self = .integer(v)
            } else {
                guard let v = Double(text) else { throw JSONError("invalid float value \(text)") }
                self = .float(v)
            }
        case .string(let s):
            switch s {
            case "NaN": self = .float(.nan)
            case "Infinity": self = .float(.infinity)
            case "-Infinity": self = .float(-.infinity)
            default: self = .text(s)
            }
        case .object(let members):
            guard members.count == 1, let member = members.first else {
                throw JSONError("a value object must have exactly one member")
            }
            switch (member.key, member.value) {
            case ("blob", .string(let hex)):
                guard let b = bytes(fromHex: hex) else { throw JSONError("blob value is not hex") }
                self = .blob(b)
            case ("unixtime", .number(let text)):
                guard let v = Int64(text) else { throw JSONError("unixtime value must be a 64-bit integer") }
                self = .unixTime(v)
            case ("iso8601", .string(let s)): self = .iso8601(s)
            case ("float_bits", .string(let hex)):
                guard let bits = UInt64(hex, radix: 16) else { throw JSONError("float_bits must be 16 hex digits") }
                self = .float(Double(bitPattern: bits))
            default: throw JSONError("unknown value object {\"\(member.key)\": …}")
            }
        case .array: throw JSONError("an array is not a value")
        }
    }
}

func hexOfUInt64(_ v: UInt64) -> String {
    let s = String(v, radix: 16)
    return String(repeating: "0", count: 16 - s.count) + s
}
