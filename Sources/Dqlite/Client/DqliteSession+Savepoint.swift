import Synchronization

extension DqliteSession {
    /// Runs `body` inside a savepoint: released (kept) when `body` returns, rolled back to and released when it
    /// throws, so an error undoes only what `body` did. Savepoints nest; inside ``DqliteDatabase/withTransaction(kind:retry:logger:isolation:_:)``
    /// they are part of its transaction, elsewhere the outermost one is a transaction of its own.
    ///
    /// ```swift
    /// try await client.withTransaction { session in
    ///     try await session.execute("INSERT INTO orders …")
    ///     try? await session.withSavepoint { try await session.execute("INSERT INTO audit …") }  // optional part
    /// }
    /// ```
    @discardableResult
    public func withSavepoint<Result>(_ body: () async throws -> Result) async throws -> Result {
        let name = "dqlite_savepoint_\(Self.savepointSerial.add(1, ordering: .relaxed).newValue)"
        try await execute(DqliteQuery(unsafeSQL: "SAVEPOINT \(name)"))
        let result: Result
        do {
            result = try await body()
        } catch {
            // Undo what body did, then drop the savepoint; if even that fails, the error of body still wins
            // (withTransaction then rolls back the whole transaction, withConnection the open one).
            _ = try? await execute(DqliteQuery(unsafeSQL: "ROLLBACK TO \(name)"))
            _ = try? await execute(DqliteQuery(unsafeSQL: "RELEASE \(name)"))
            throw DqliteDatabase.typed(error, outcome: .notApplied)
        }
        try await execute(DqliteQuery(unsafeSQL: "RELEASE \(name)"))
        return result
    }

    /// Savepoint names are unique in the process (so nested ones never clash).
    private static let savepointSerial = Atomic<UInt64>(0)
}
