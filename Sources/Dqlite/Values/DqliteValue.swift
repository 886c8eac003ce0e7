@_exported import enum DqliteWire.ValueType
@_exported import enum DqliteWire.WireValue

/// A value as dqlite stores and sends it: integer, float, text, blob, null, and the server's
/// UNIXTIME / ISO8601 / BOOLEAN column types.
///
/// It is the wire codec's `WireValue`: rows decode into it with no conversion. Floats compare by bit
/// pattern.
public typealias DqliteValue = WireValue

extension WireValue {
    /// True for SQL NULL, and for the empty ISO8601 string the server sends for NULL in
    /// DATETIME/DATE/TIMESTAMP columns (canonical/dqlite#882).
    ///
    /// A NULL in a BOOLEAN column arrives as `false` and cannot be told apart (same issue).
    public var isNull: Bool {
        switch self {
        case .null: return true
        case .iso8601(let text): return text.isEmpty
        default: return false
        }
    }

    /// The value's type as a name for error messages.
    var typeName: String {
        switch self {
        case .integer: return "INTEGER"
        case .float: return "FLOAT"
        case .text: return "TEXT"
        case .blob: return "BLOB"
        case .null: return "NULL"
        case .unixTime: return "UNIXTIME"
        case .iso8601: return "ISO8601"
        case .boolean: return "BOOLEAN"
        }
    }
}
