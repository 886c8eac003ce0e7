/// The type code carried in front of every parameter and every row cell.
public enum ValueType: UInt8, Hashable, Sendable, CaseIterable {
    /// `int64`.
    case integer = 1
    /// IEEE-754 `double`.
    case float = 2
    /// NUL-terminated UTF-8 text.
    case text = 3
    /// Length-prefixed bytes.
    case blob = 4
    /// SQL NULL (one ignored word).
    case null = 5
    /// Seconds since the epoch (`int64`); the server sends it for integers in DATETIME/DATE/TIMESTAMP columns.
    case unixTime = 9
    /// ISO-8601 text; the server sends it for text (and NULL, as `""`) in DATETIME/DATE/TIMESTAMP columns.
    case iso8601 = 10
    /// A `uint64` that is 0 for false; the server sends it for BOOLEAN columns (NULL arrives as false).
    case boolean = 11
}
