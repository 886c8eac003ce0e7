/// One row of a result: its values and the result's column names.
///
/// ```swift
/// for try await row in try await client.query("SELECT id, name, born FROM people") {
///     let (id, name, born) = try row.decode((Int, String, Date?).self)
///     let same: String = try row.decode(column: "name")
///     let person = try row.decode(Person.self)      // Person: Decodable, keys = column names
/// }
/// ```
public struct DqliteRow: Sendable, RandomAccessCollection, CustomStringConvertible {
    /// The result's columns.
    public let columns: DqliteColumns
    /// The values, one per column.
    public let values: [DqliteValue]

    /// Creates a row.
    public init(columns: DqliteColumns, values: [DqliteValue]) {
        self.columns = columns
        self.values = values
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { values.count }
    public subscript(position: Int) -> DqliteValue { values[position] }

    /// The value in the column with this name, or nil if there is no such column.
    public subscript(column name: String) -> DqliteValue? {
        columns.position(of: name).map { values[$0] }
    }

    /// Decodes the value at `index`.
    @inlinable
    public func decode<Value: DqliteDecodable>(_ type: Value.Type = Value.self, at index: Int) throws(DqliteCodingError)
        -> Value
    {
        guard values.indices.contains(index) else {
            throw DqliteCodingError("the row has \(values.count) columns", targetType: Value.self, index: index)
        }
        do {
            return try Value(dqliteValue: values[index])
        } catch {
            throw located(error, at: index)
        }
    }

    /// `error` with the column it happened in.
    @usableFromInline
    func located(_ error: DqliteCodingError, at index: Int) -> DqliteCodingError {
        var located = error
        located.index = index
        located.column = columns.names.indices.contains(index) ? columns.names[index] : nil
        return located
    }

    /// Decodes the value in the column named `column`.
    public func decode<Value: DqliteDecodable>(_ type: Value.Type = Value.self, column: String)
        throws(DqliteCodingError) -> Value
    {
        guard let index = columns.position(of: column) else {
            throw DqliteCodingError(
                "no column named \"\(column)\" (columns: \(columns))", targetType: Value.self, column: column)
        }
        return try decode(Value.self, at: index)
    }

    /// Decodes the row's leading columns into a tuple, e.g. `row.decode((Int, String?).self)`.
    @inlinable
    public func decode<each Value: DqliteDecodable>(_ types: (repeat each Value).Type) throws(DqliteCodingError) -> (
        repeat each Value
    ) {
        var index = 0
        func next<V: DqliteDecodable>(_ type: V.Type) throws(DqliteCodingError) -> V {
            defer { index += 1 }
            return try decode(V.self, at: index)
        }
        return (repeat try next((each Value).self))
    }

    public var description: String {
        "[" + zip(columns.names, values).map { "\($0): \($1)" }.joined(separator: ", ") + "]"
    }
}
