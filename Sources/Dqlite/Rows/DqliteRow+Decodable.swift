extension DqliteRow {
    /// Decodes the row into a `Decodable` record whose coding keys are column names.
    ///
    /// Properties decode with their ``DqliteDecodable`` conformance (so `Date`, `[UInt8]`, optionals and
    /// enums with raw values work); a missing column for an optional property is nil. Nested containers are
    /// not supported (store such values as JSON text and decode them yourself).
    ///
    /// A scalar type (one that is ``DqliteDecodable`` itself, such as `Int` or `String`) decodes the row's
    /// leading column, as the tuple form `row.decode((Int).self)` does, whichever of the two overloads
    /// `row.decode(Int.self)` resolves to.
    public func decode<Record: Decodable>(_ type: Record.Type) throws -> Record {
        if let scalar = Record.self as? any DqliteDecodable.Type, let first = values.first,
            let value = try scalar.init(dqliteValue: first) as? Record
        {
            return value
        }
        return try Record(from: RowDecoder(row: self))
    }
}

/// A `Decoder` over one row: a keyed container whose keys are column names.
struct RowDecoder: Decoder {
    let row: DqliteRow
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(RowContainer<Key>(row: row))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        throw DecodingError.typeMismatch(
            [Any].self, .init(codingPath: [], debugDescription: "a row decodes as a keyed container (column names)"))
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        throw DecodingError.typeMismatch(
            Any.self, .init(codingPath: [], debugDescription: "a row decodes as a keyed container (column names)"))
    }
}

struct RowContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let row: DqliteRow
    var codingPath: [any CodingKey] { [] }
    var allKeys: [Key] { row.columns.names.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { row.columns.position(of: key.stringValue) != nil }

    func decodeNil(forKey key: Key) throws -> Bool {
        guard let value = row[column: key.stringValue] else { return true }
        return value.isNull
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        guard let decodable = T.self as? any DqliteDecodable.Type else {
            throw DqliteCodingError(
                "\(T.self) is not DqliteDecodable (nested containers are not supported)", targetType: T.self,
                column: key.stringValue)
        }
        let value = try row.decode(decodable, column: key.stringValue)
        guard let typed = value as? T else {
            throw DqliteCodingError("internal type mismatch", targetType: T.self, column: key.stringValue)
        }
        return typed
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        throw DqliteCodingError(
            "nested containers are not supported", targetType: NestedKey.self, column: key.stringValue)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        throw DqliteCodingError("nested containers are not supported", targetType: [Any].self, column: key.stringValue)
    }

    func superDecoder() throws -> any Decoder { RowDecoder(row: row) }
    func superDecoder(forKey key: Key) throws -> any Decoder { RowDecoder(row: row) }
}
