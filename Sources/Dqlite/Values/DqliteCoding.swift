/// A Swift type that can be sent as a statement parameter.
///
/// Conforming types: the integer types (unsigned ones are checked: a `UInt64` above `Int64.max` cannot be
/// stored), `Double`, `Float`, `String`, `Bool`, `[UInt8]`, `Date` (ISO-8601 text), `Optional` (nil is
/// NULL), `RawRepresentable` types with a codable raw value, and ``DqliteValue`` itself.
public protocol DqliteEncodable: Sendable {
    /// The value to bind.
    func dqliteValue() throws(DqliteCodingError) -> DqliteValue
}

/// A Swift type that can be read from a row cell.
public protocol DqliteDecodable {
    /// Decodes a cell; throws ``DqliteCodingError`` when the value does not fit.
    init(dqliteValue value: DqliteValue) throws(DqliteCodingError)
}

/// Both directions.
public typealias DqliteCodable = DqliteEncodable & DqliteDecodable

/// A value that does not fit the Swift type it is decoded to or encoded from.
public struct DqliteCodingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong, e.g. `"INTEGER 300 does not fit in UInt8"`.
    public var message: String
    /// The column's name, when decoding a row.
    public var column: String?
    /// The column's index, when decoding a row.
    public var index: Int?
    /// The Swift type asked for (decoding) or given (encoding).
    public var targetType: String
    /// True when a Swift value could not be turned into a parameter; false when a cell could not be decoded.
    public var isEncoding: Bool

    /// Creates an error.
    public init(
        _ message: String, targetType: Any.Type, column: String? = nil, index: Int? = nil, isEncoding: Bool = false
    ) {
        self.message = message
        self.targetType = String(describing: targetType)
        self.column = column
        self.index = index
        self.isEncoding = isEncoding
    }

    public var description: String {
        if isEncoding { return "cannot encode \(targetType) as a parameter: \(message)" }
        var location = ""
        if let index { location = " at column \(index)" + (column.map { " \"\($0)\"" } ?? "") }
        return "cannot decode \(targetType)\(location): \(message)"
    }

    static func mismatch(_ value: DqliteValue, _ type: Any.Type) -> DqliteCodingError {
        DqliteCodingError("\(value.typeName) value \(value) is not a \(type)", targetType: type)
    }
}

extension WireValue: DqliteEncodable, DqliteDecodable {
    public func dqliteValue() throws(DqliteCodingError) -> DqliteValue { self }
    public init(dqliteValue value: DqliteValue) throws(DqliteCodingError) { self = value }
}
