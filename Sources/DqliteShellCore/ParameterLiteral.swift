import DqliteWire

/// Parses `.param set` values the way the sqlite3 shell reads them.
public enum ParameterLiteral {
    /// Parses one value:
    ///
    /// - `NULL` → null; `TRUE`/`FALSE` → integer 1/0 (case-insensitive, as SQLite evaluates them);
    /// - decimal integers (optional sign) → integer, or float when they overflow 64 bits;
    ///   `0x…` hex integers (up to 16 digits, two's complement) → integer;
    /// - decimal floats (`1.5`, `.5`, `1e-3`, `-2.5E+10`) → float;
    /// - `'text'` or `"text"` with the quote doubled inside (`'it''s'`) → text;
    /// - `x'0aff'` (or `X'…'`) with an even number of hex digits → blob;
    /// - any other bare word → that text, as sqlite3 falls back to binding it as text.
    ///
    /// Throws for an empty value, an unterminated or malformed quoted value, and malformed blob literals.
    public static func parse(_ text: String) throws(DotCommandError) -> WireValue {
        let trimmed = Array(trim(text).utf8)
        guard let first = trimmed.first else { throw DotCommandError("missing parameter value") }
        let upper = String(decoding: trimmed.map(asciiUpper), as: UTF8.self)
        switch upper {
        case "NULL": return .null
        case "TRUE": return .integer(1)
        case "FALSE": return .integer(0)
        default: break
        }
        if first == UInt8(ascii: "'") || first == UInt8(ascii: "\"") {
            return .text(try unquote(trimmed[...], original: text))
        }
        if (first == UInt8(ascii: "x") || first == UInt8(ascii: "X")), trimmed.count >= 2,
            trimmed[1] == UInt8(ascii: "'")
        {
            return .blob(try blob(trimmed.dropFirst(), original: text))
        }
        if let number = number(trimmed[...]) { return number }
        return .text(String(decoding: trimmed, as: UTF8.self))
    }

    /// A numeric literal, or nil when the text is not one.
    static func number(_ bytes: ArraySlice<UInt8>) -> WireValue? {
        var digits = bytes
        var negative = false
        if let sign = digits.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") {
            negative = sign == UInt8(ascii: "-")
            digits = digits.dropFirst()
        }
        if digits.count > 2, digits.first == UInt8(ascii: "0"),
            digits.dropFirst().first == UInt8(ascii: "x") || digits.dropFirst().first == UInt8(ascii: "X")
        {
            let hex = digits.dropFirst(2)
            guard hex.count <= 16, let bits = UInt64(String(decoding: hex, as: UTF8.self), radix: 16) else {
                return nil
            }
            let value = Int64(bitPattern: bits)
            return .integer(negative ? 0 &- value : value)
        }
        guard !digits.isEmpty, digits.allSatisfy(isDecimal) else {
            return float(bytes)
        }
        if let value = Int64(String(decoding: bytes, as: UTF8.self)) { return .integer(value) }
        return float(bytes)
    }

    private static func float(_ bytes: ArraySlice<UInt8>) -> WireValue? {
        let allowed = bytes.allSatisfy { byte in
            isDecimal(byte) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E")
                || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-")
        }
        guard allowed, bytes.contains(where: isDecimal), let value = Double(String(decoding: bytes, as: UTF8.self))
        else { return nil }
        return .float(value)
    }

    /// The contents of a quoted value whose quote is its first byte, with doubled quotes undone.
    private static func unquote(_ bytes: ArraySlice<UInt8>, original: String) throws(DotCommandError) -> String {
        guard let quote = bytes.first else { throw DotCommandError("missing parameter value") }
        var out: [UInt8] = []
        var index = bytes.startIndex + 1
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == quote {
                let next = index + 1
                if next < bytes.endIndex, bytes[next] == quote {
                    out.append(quote)
                    index += 2
                    continue
                }
                guard next == bytes.endIndex else {
                    throw DotCommandError("unexpected text after the closing quote in \(original)")
                }
                return String(decoding: out, as: UTF8.self)
            }
            out.append(byte)
            index += 1
        }
        throw DotCommandError("unterminated quoted value \(original)")
    }

    /// The bytes of `'hex'` (the part after `x`).
    private static func blob(_ quoted: ArraySlice<UInt8>, original: String) throws(DotCommandError) -> [UInt8] {
        guard quoted.count >= 2, quoted.last == UInt8(ascii: "'") else {
            throw DotCommandError("unterminated blob literal \(original)")
        }
        let hex = Array(quoted.dropFirst().dropLast())
        guard hex.count % 2 == 0 else {
            throw DotCommandError("blob literal \(original) must have an even number of hex digits")
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(hex.count / 2)
        var index = 0
        while index < hex.count {
            guard let high = hexValue(hex[index]), let low = hexValue(hex[index + 1]) else {
                throw DotCommandError("blob literal \(original) holds a character that is not a hex digit")
            }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    private static func isDecimal(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    private static func asciiUpper(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) ? byte - 32 : byte
    }

    private static func trim(_ text: String) -> Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        let start = text.drop(while: isSpace)
        var end = start.endIndex
        while end > start.startIndex {
            let before = start.index(before: end)
            guard isSpace(start[before]) else { break }
            end = before
        }
        return start[start.startIndex..<end]
    }
}
