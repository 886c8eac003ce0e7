import DqliteWire

/// RFC 4180 fields.
enum CSVField {
    /// A value as a field: NULL (and dqlite's empty ISO 8601 value) as an empty unquoted field; integers and
    /// unix times in decimal; floats as `ValueFormatter.floatText`; blobs as lowercase hex digits; booleans
    /// as `true`/`false`; text quoted when `quote(_:)` says so.
    static func field(_ value: WireValue) -> String {
        switch value {
        case .null: return ""
        case .integer(let v), .unixTime(let v): return String(v)
        case .float(let v): return ValueFormatter.floatText(v)
        case .text(let v): return quote(v)
        case .iso8601(let v): return v.isEmpty ? "" : quote(v)
        case .blob(let v): return quote(ValueFormatter.hex(v))
        case .boolean(let v): return v ? "true" : "false"
        }
    }

    /// `text` as a field: quoted (with `"` doubled) when it holds a comma, a quote, CR or LF, starts or
    /// ends with a space or tab, or is empty (so an empty string differs from NULL).
    static func quote(_ text: String) -> String {
        let bytes = text.utf8
        let needsQuotes =
            bytes.isEmpty
            || bytes.contains { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 0x0A || $0 == 0x0D }
            || bytes.first.map(isBlank) == true || bytes.last.map(isBlank) == true
        guard needsQuotes else { return text }
        var out = "\""
        for character in text.unicodeScalars {
            if character == "\"" { out.unicodeScalars.append("\"") }
            out.unicodeScalars.append(character)
        }
        out += "\""
        return out
    }

    private static func isBlank(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t")
    }
}
