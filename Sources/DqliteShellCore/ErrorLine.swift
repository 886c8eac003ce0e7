import DqliteWire
/// Formats server errors as the one line the shell prints.
public enum ErrorLine {
    /// `message (NAME)`, e.g. `UNIQUE constraint failed: u.k (SQLITE_CONSTRAINT_UNIQUE)` for code 2067.
    ///
    /// The name is the code's SQLite or dqlite name; an unknown extended code whose primary code is known
    /// prints as `(SQLITE_IOERR, code 4874)`, a wholly unknown one as `(code 4242)`. dqlite's own codes
    /// (1000–1099) are never reduced to a primary code. Control characters in the message are escaped and
    /// surrounding whitespace trimmed, so the result is always one line; an empty message prints as the
    /// name alone.
    public static func format(message: String, code: UInt64) -> String {
        let label = codeLabel(code)
        let text = trimmed(ValueFormatter.escapingControlCharacters(message))
        return text.isEmpty ? label : "\(text) (\(label))"
    }

    /// The symbolic name of a result code, or nil when it is not known.
    public static func name(of code: UInt64) -> String? {
        ResultCodeNames.name(of: code)
    }

    private static func codeLabel(_ code: UInt64) -> String {
        if let name = name(of: code) { return name }
        if !(1000..<1100).contains(code), let primary = name(of: code & 0xFF) { return "\(primary), code \(code)" }
        return "code \(code)"
    }

    private static func trimmed(_ text: String) -> Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        let start = text.drop(while: isSpace)
        var end = start.endIndex
        while end > start.startIndex, isSpace(start[start.index(before: end)]) { end = start.index(before: end) }
        return start[start.startIndex..<end]
    }
}
