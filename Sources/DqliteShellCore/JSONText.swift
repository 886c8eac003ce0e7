import DqliteWire

/// JSON text for result values.
enum JSONText {
    /// A value as JSON: integers and unix times as exact integers; finite floats in their shortest
    /// round-trip form; NaN and ±infinity as the strings `"NaN"`, `"Infinity"`, `"-Infinity"` (JSON has no
    /// such numbers, and `null` would make them look like SQL NULL); text and ISO 8601 values as strings;
    /// blobs as strings of lowercase hex digits; booleans as `true`/`false`; NULL and dqlite's empty ISO 8601
    /// value as `null`.
    static func value(_ value: WireValue) -> String {
        switch value {
        case .integer(let v), .unixTime(let v): return String(v)
        case .float(let v):
            if v.isNaN { return "\"NaN\"" }
            if v.isInfinite { return v < 0 ? "\"-Infinity\"" : "\"Infinity\"" }
            return v.description
        case .text(let v): return string(v)
        case .iso8601(let v): return v.isEmpty ? "null" : string(v)
        case .blob(let v): return "\"" + ValueFormatter.hex(v) + "\""
        case .null: return "null"
        case .boolean(let v): return v ? "true" : "false"
        }
    }

    /// `text` as a JSON string: `"` and `\` escaped, control characters (C0, DEL and C1) as `\n`, `\r`,
    /// `\t`, `\b`, `\f` or `\u00XX`, everything else kept as UTF-8.
    static func string(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        out.append("\"")
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x22: out.append(contentsOf: #"\""#.unicodeScalars)
            case 0x5C: out.append(contentsOf: #"\\"#.unicodeScalars)
            case 0x0A: out.append(contentsOf: #"\n"#.unicodeScalars)
            case 0x0D: out.append(contentsOf: #"\r"#.unicodeScalars)
            case 0x09: out.append(contentsOf: #"\t"#.unicodeScalars)
            case 0x08: out.append(contentsOf: #"\b"#.unicodeScalars)
            case 0x0C: out.append(contentsOf: #"\f"#.unicodeScalars)
            case 0x00..<0x20, 0x7F..<0xA0:
                out.append(contentsOf: (#"\u00"# + ValueFormatter.hex([UInt8(scalar.value)])).unicodeScalars)
            default: out.append(scalar)
            }
        }
        out.append("\"")
        return String(out)
    }
}
