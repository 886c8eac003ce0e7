extension DqliteRowSequence {
    /// The first row, or nil when there is none. The rest of the result is not read: the stream is interrupted
    /// and its connection given back.
    public func first() async throws -> DqliteRow? {
        for try await row in self { return row }
        return nil
    }

    /// The first row decoded, e.g. `try await client.query(…).first(decoding: (Int, String).self)`; nil when
    /// there is no row.
    public func first<each Value: DqliteDecodable>(decoding types: (repeat each Value).Type) async throws
        -> (repeat each Value)?
    {
        guard let row = try await first() else { return nil }
        return try row.decode(types)
    }

    /// The only row the query is expected to return. Throws ``DqliteError/Code/noRows`` when there is none
    /// (further rows are not read).
    public func one() async throws -> DqliteRow {
        guard let row = try await first() else {
            throw DqliteError(.noRows, "the query returned no row")
        }
        return row
    }

    /// The only row decoded; throws ``DqliteError/Code/noRows`` when there is none.
    public func one<each Value: DqliteDecodable>(decoding types: (repeat each Value).Type) async throws
        -> (repeat each Value)
    {
        try await one().decode(types)
    }

    /// The rows decoded one by one as a `Decodable` record (columns by name), streamed: nothing is collected.
    ///
    /// ```swift
    /// struct User: Decodable { var id: Int; var name: String }
    /// for try await user in try await client.query("SELECT id, name FROM users").records(User.self) { … }
    /// ```
    public func records<Record: Decodable>(_ type: Record.Type) -> AsyncThrowingMapSequence<Self, Record> {
        map { try $0.decode(Record.self) }
    }
}
