import DqliteWire

/// A statement prepared on one connection (PREPARE), run any number of times with different parameters
/// (EXEC/QUERY), freed with ``finalize()``. It belongs to the session that prepared it.
public struct DqlitePreparedStatement: Sendable {
    let session: DqliteSession
    /// The SQL.
    public let sql: String
    /// The server's statement id.
    public let id: UInt32
    /// How many parameters the statement takes.
    public let parameterCount: Int
    let route: StatementRoute

    init(session: DqliteSession, sql: String, id: UInt32, parameterCount: Int, route: StatementRoute) {
        self.session = session
        self.sql = sql
        self.id = id
        self.parameterCount = parameterCount
        self.route = route
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
            return DqliteExecResult(lastInsertID: 0, rowsAffected: 0)
        }
        let response = try await session.withBusyRetry {
            try await session.pooled.connection.call(.exec(call), timeout: options.timeout)
        }
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
        session.pooled.forgetStatement(sql)
        try await session.pooled.connection.call(.finalize(db: 0, stmt: id))
    }

    private func call(_ parameters: [any DqliteEncodable]) async throws -> StatementCall {
        guard parameters.count == parameterCount else {
            throw DqliteError(
                .invalidRequest, "the statement takes \(parameterCount) parameters, got \(parameters.count)")
        }
        let values: [DqliteValue]
        do {
            values = try parameters.map { try $0.dqliteValue() }
        } catch {
            throw DqliteError(.coding, "a parameter cannot be bound: \(error)", underlying: error)
        }
        return StatementCall(db: 0, stmt: id, parameters: values, schema: try await session.schema(for: values.count))
    }
}
