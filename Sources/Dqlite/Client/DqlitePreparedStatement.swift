import DqliteWire

/// A statement prepared on one connection (PREPARE), run any number of times with different parameters
/// (EXEC/QUERY), freed with ``finalize()``. It belongs to the session that prepared it.
public struct DqlitePreparedStatement: Sendable {
    let session: DqliteSession
    /// The SQL.
    public let sql: String
    let prepared: PooledConnection.PreparedHandle
    let route: StatementRoute

    /// The server's statement id.
    public var id: UInt32 { prepared.id }
    /// How many parameters the statement takes.
    public var parameterCount: Int { Int(clamping: prepared.parameters) }

    init(session: DqliteSession, sql: String, prepared: PooledConnection.PreparedHandle, route: StatementRoute) {
        self.session = session
        self.sql = sql
        self.prepared = prepared
        self.route = route
    }

    /// Throws unless the statement is live and its session open: a finalized statement's id may already belong
    /// to another statement (the server reuses ids), and sending a dead id crashes some servers.
    private func checkLive() throws {
        try session.checkOpen()
        guard session.pooled.isLive(sql, handle: prepared.handle) else {
            throw DqliteError(.invalidRequest, "the prepared statement was finalized")
        }
    }

    /// Runs the statement with `parameters` (it must not return rows; see ``query(_:options:)``).
    @discardableResult
    public func execute(_ parameters: [any DqliteEncodable] = [], options: DqliteCallOptions = .default) async throws
        -> DqliteExecResult
    {
        let call = try await self.call(parameters)
        if route.returnsRows {
            var reader = try await session.withBusyRetry {
                try await session.pooled.connection.startRows(.query(call), timeout: options.timeout)
            }
            await reader.close()
            session.record(route)
            return DqliteExecResult(lastInsertID: 0, rowsAffected: 0)
        }
        let response = try await session.withBusyRetry {
            try await session.pooled.connection.call(.exec(call), timeout: options.timeout)
        }
        session.record(route)
        guard case .result(let lastInsertID, let rowsAffected) = response else {
            throw DqliteError(.protocolViolation, "EXEC answered with \(response.type.name)")
        }
        return DqliteExecResult(
            lastInsertID: Int64(bitPattern: lastInsertID), rowsAffected: Int(clamping: rowsAffected))
    }

    /// Runs the statement with `parameters` and streams its rows.
    public func query(_ parameters: [any DqliteEncodable] = [], options: DqliteCallOptions = .default) async throws
        -> DqliteRowSequence
    {
        guard route.returnsRows else {
            try await execute(parameters, options: options)
            return .empty
        }
        let call = try await self.call(parameters)
        let reader = try await session.withBusyRetry {
            try await session.pooled.connection.startRows(.query(call), timeout: options.timeout)
        }
        return DqliteRowSequence(reader: reader, lease: nil)
    }

    /// Frees the statement on the server (FINALIZE).
    public func finalize() async throws {
        try session.checkOpen()
        guard session.pooled.forgetStatement(sql, handle: prepared.handle) else {
            throw DqliteError(.invalidRequest, "the prepared statement was already finalized")
        }
        try await session.pooled.connection.call(.finalize(db: 0, stmt: id))
    }

    private func call(_ parameters: [any DqliteEncodable]) async throws -> StatementCall {
        try checkLive()
        guard parameters.count == parameterCount else {
            throw DqliteError(
                .invalidRequest, "the statement takes \(parameterCount) parameters, got \(parameters.count)")
        }
        let values: [DqliteValue]
        do {
            values = DqliteQuery.bindable(try parameters.map { try $0.dqliteValue() })
        } catch {
            throw DqliteError(.coding, "a parameter cannot be bound: \(error)", underlying: error)
        }
        return StatementCall(db: 0, stmt: id, parameters: values, schema: try await session.schema(for: values.count))
    }
}
