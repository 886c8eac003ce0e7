import DqliteWire

/// Text forms of values shared by the output modes.
enum ValueFormatter {
    /// A float as text that reads back to the same `Double` (Swift's shortest round-trip form, e.g. `0.1`,
    /// `1.0`, `1e+20`), or `Inf`, `-Inf`, `NaN` as sqlite3 prints them.
    static func floatText(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Inf" : "Inf" }
        return value.description
    }

    /// Lowercase hex digits of `bytes`.
    static func hex(_ bytes: some Collection<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether a value is SQL NULL, counting dqlite's empty ISO 8601 value as NULL.
    static func isNull(_ value: WireValue) -> Bool {
        switch value {
        case .null: return true
        case .iso8601(let text): return text.isEmpty
        default: return false
        }
    }

    /// The human-readable form used by the table, line and markdown modes (before escaping): integers and
    /// unix times in decimal, floats by `floatText`, text and ISO 8601 as is, blobs as `x'…'`, booleans as
    /// `true`/`false`, NULL as `nullText`. With `blobByteLimit`, only that many blob bytes are converted
    /// (followed by `…`), so a huge blob never becomes a huge string.
    static func displayText(_ value: WireValue, nullText: String, blobByteLimit: Int? = nil) -> String {
        switch value {
        case .integer(let v), .unixTime(let v): return String(v)
        case .float(let v): return floatText(v)
        case .text(let v): return v
        case .iso8601(let v): return v.isEmpty ? nullText : v
        case .blob(let bytes):
            if let limit = blobByteLimit, bytes.count > limit {
                return "x'" + hex(bytes.prefix(limit)) + "…"
            }
            return "x'" + hex(bytes) + "'"
        case .null: return nullText
        case .boolean(let v): return v ? "true" : "false"
        }
    }

    /// `text` with control characters made visible so they cannot move the cursor, clear the screen or
    /// change colours: `\n`, `\r`, `\t` as those escapes, other C0 controls and DEL as `\xHH`, C1 controls
    /// (U+0080–U+009F) as `\u00HH`. Backslashes are left alone.
    static func escapingControlCharacters(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F || $0 == 0xC2 }) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            let value = scalar.value
            switch value {
            case 0x0A: out.append(contentsOf: #"\n"#.unicodeScalars)
            case 0x0D: out.append(contentsOf: #"\r"#.unicodeScalars)
            case 0x09: out.append(contentsOf: #"\t"#.unicodeScalars)
            case 0x00..<0x20, 0x7F: out.append(contentsOf: (#"\x"# + hex([UInt8(value)])).unicodeScalars)
            case 0x80..<0xA0: out.append(contentsOf: (#"\u00"# + hex([UInt8(value)])).unicodeScalars)
            default: out.append(scalar)
            }
        }
        return String(out)
    }
}

extension ValueFormatter {
    /// A value as an SQL literal, as `.param list` shows it: `42`, `1.5`, `'it''s'`, `x'00ff'`, `NULL`;
    /// unix times as integers, ISO 8601 values as text, booleans as `TRUE`/`FALSE`. Control characters in
    /// text are escaped for display.
    static func sqlLiteral(_ value: WireValue) -> String {
        switch value {
        case .text, .iso8601: return escapingControlCharacters(SQLDump.literal(value))
        case .boolean(let v): return v ? "TRUE" : "FALSE"
        default: return SQLDump.literal(value)
        }
    }
}
