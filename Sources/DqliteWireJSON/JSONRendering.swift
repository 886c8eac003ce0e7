/// How messages are rendered as JSON.
public enum JSONRendering: Hashable, Sendable {
    /// What `dqlite-wire decode` prints: NaN as `"NaN"`, FILES entries as `{name, size}`.
    case dissector
    /// Lossless, for golden vectors: NaN as `{"float_bits": "<hex>"}`, FILES entries with `data` hex.
    case exact
}

/// Lowercase hex of `bytes`.
func hexString(_ bytes: some Sequence<UInt8>) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    for byte in bytes {
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 0xF)])
    }
    return String(decoding: out, as: UTF8.self)
}

/// Bytes from lowercase or uppercase hex; nil when the text is not hex of even length.
public func bytes(fromHex text: String) -> [UInt8]? {
    let utf8 = Array(text.utf8)
    guard utf8.count % 2 == 0 else { return nil }
    func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
    var out: [UInt8] = []
    out.reserveCapacity(utf8.count / 2)
    var i = 0
    while i < utf8.count {
        guard let high = nibble(utf8[i]), let low = nibble(utf8[i + 1]) else { return nil }
        out.append(high << 4 | low)
        i += 2
    }
    return out
}

/// Reads typed fields out of a JSON object, with errors that name the field.
struct JSONFields {
    let object: JSONValue
    let context: String

    init(_ object: JSONValue, _ context: String) throws {
        guard case .object = object else { throw JSONError("\(context): expected a JSON object") }
        self.object = object
        self.context = context
    }

    func value(_ key: String) throws -> JSONValue {
        guard let value = object[key] else { throw JSONError("\(context): missing field \"\(key)\"") }
        return value
    }

    func has(_ key: String) -> Bool { object[key] != nil }

    func uint64(_ key: String) throws -> UInt64 {
        guard case .number(let text) = try value(key), let v = UInt64(text) else {
            throw JSONError("\(context): field \"\(key)\" must be an unsigned 64-bit integer")
        }
        return v
    }

    func uint32(_ key: String) throws -> UInt32 {
        guard let v = UInt32(exactly: try uint64(key)) else {
            throw JSONError("\(context): field \"\(key)\" must fit in 32 bits")
        }
        return v
    }

    func string(_ key: String) throws -> String {
        guard case .string(let s) = try value(key) else {
            throw JSONError("\(context): field \"\(key)\" must be a string")
        }
        return s
    }

    func bool(_ key: String) throws -> Bool {
        guard case .bool(let b) = try value(key) else {
            throw JSONError("\(context): field \"\(key)\" must be a boolean")
        }
        return b
    }

    func array(_ key: String) throws -> [JSONValue] {
        guard case .array(let items) = try value(key) else {
            throw JSONError("\(context): field \"\(key)\" must be an array")
        }
        return items
    }
}
