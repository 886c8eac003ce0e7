import CoreMetrics
import DqliteSQL
import DqliteWire
import Logging
import NIOConcurrencyHelpers

/// One leased connection to the leader, with its database open: what `withConnection` and `withTransaction`
/// hand to their closure. Statements run in order on this connection; use it only inside that closure.
///
/// A statement the server refuses with SQLITE_BUSY (it did not run) is re-sent with backoff for up to the
/// client's `busyTimeout`. Other failures are reported as they are: a session is pinned to one connection, so
/// it does not move to another node (the client-level calls and `withTransaction(retry:)` do).
public final class DqliteSession: Sendable {
    let pooled: PooledConnection
    let busyTimeout: Duration
    let inTransaction: Bool
    let logger: Logger
    let metrics: ClientMetrics
    /// Log bound values with statements (``DqliteClient/Configuration/logsStatementParameters``).
    let logsParameters: Bool
    /// Spans for this session's statements.
    let tracing: StatementTracing
    private let ended = NIOLockedValueBox(false)
    /// The transaction state that the statements run on this session left (BEGIN, COMMIT, SAVEPOINT, …).
    private let transaction = NIOLockedValueBox(TransactionTracker())

    init(
        pooled: PooledConnection, busyTimeout: Duration, inTransaction: Bool, logger: Logger, metrics: ClientMetrics,
        logsParameters: Bool = false, tracing: StatementTracing
    ) {
        self.tracing = tracing
        self.pooled = pooled
        self.busyTimeout = busyTimeout
        self.inTransaction = inTransaction
        self.logger = logger
        self.metrics = metrics
        self.logsParameters = logsParameters
    }

    /// Logs a statement at debug level: SQL, parameters (redacted unless configured), node, database, connection.
    func logStatement(_ sql: String, parameters: [DqliteValue]) {
        guard logger.logLevel <= .debug else { return }
        var metadata: Logger.Metadata = [
            "db.statement": "\(sql)", "dqlite.node": "\(node)", "dqlite.database": "\(database)",
            "dqlite.connection": "\(ObjectIdentifier(pooled.connection).hashValue)",
        ]
        if !parameters.isEmpty {
            metadata["db.parameters"] =
                logsParameters ? "\(parameters)" : "[\(parameters.count) redacted]"
        }
        logger.debug("dqlite statement", metadata: metadata)
    }

    /// Marks the session over: its connection goes back to the pool, and using the session again is an error.
    func end() { ended.withLockedValue { $0 = true } }

    /// Throws if the session's closure has returned.
    func checkOpen() throws {
        if ended.withLockedValue({ $0 }) {
            throw DqliteError(
                .invalidRequest,
                "this session is over: its closure returned and its connection went back to the pool")
        }
    }

    /// True if the statements that succeeded on this session left a transaction open (best knowledge: the
    /// server may also have ended it, e.g. after `INSERT OR ROLLBACK`).
    var leftTransactionOpen: Bool { transaction.withLockedValue { $0.isOpen } }

    /// Records a statement that ran to completion.
    func record(_ route: StatementRoute) {
        guard let control = route.transactionControl else { return }
        transaction.withLockedValue { $0.record(succeeded: control) }
    }

    /// The node this session talks to (the leader when the session started).
    public var node: DqliteNodeAddress { pooled.connection.address }

    /// The database open on this session.
    public var database: String { pooled.database }

    /// Runs a statement that returns no rows; a statement that does return rows (SELECT, RETURNING, …) is
    /// sent as a query and its rows are discarded (lastInsertID and rowsAffected are then 0).
    @discardableResult
    public func execute(_ query: DqliteQuery, options: DqliteCallOptions = .default) async throws -> DqliteExecResult {
        try checkOpen()
        let route = try Self.check(query, behaviour: pooled.behaviour)
        logStatement(query.sql, parameters: query.parameters)
        return try await tracing.traced(query.sql, parameters: query.parameters, node: node) {
            if route.returnsRows {
                var reader = try await startRows(query, route: route, options: options)
                await reader.close()
                record(route)
                return DqliteExecResult(lastInsertID: 0, rowsAffected: 0)
            }
            let parameters = try query.checkedParameters()
            let call = SQLCall(sql: query.sql, parameters: parameters, schema: try await schema(for: parameters.count))
            let response = try await withBusyRetry {
                try await pooled.connection.call(.execSQL(call), timeout: options.timeout)
            }
            record(route)
            guard case .result(let lastInsertID, let rowsAffected) = response else {
                throw DqliteError(.protocolViolation, "EXEC_SQL answered with \(response.type.name)")
            }
            return DqliteExecResult(
                lastInsertID: Int64(bitPattern: lastInsertID), rowsAffected: Int(clamping: rowsAffected))
        }
    }

    /// Runs a statement and returns its rows as a stream (read it inside this session's closure). A
    /// statement that returns no rows runs as EXEC and yields an empty result.
    public func query(_ query: DqliteQuery, options: DqliteCallOptions = .default) async throws -> DqliteRowSequence {
        try checkOpen()
        let route = try Self.check(query, behaviour: pooled.behaviour)
        guard route.returnsRows else {
            try await execute(query, options: options)
            return DqliteRowSequence.empty
        }
        logStatement(query.sql, parameters: query.parameters)
        // The span covers sending the query and its first answer; the rows stream after it.
        let reader = try await tracing.traced(query.sql, parameters: query.parameters, node: node) {
            try await startRows(query, route: route, options: options)
        }
        return DqliteRowSequence(reader: reader, lease: nil)
    }

    /// Prepares a statement on this connection (reused from the connection's cache when the same SQL was
    /// prepared before).
    public func prepare(_ sql: String) async throws -> DqlitePreparedStatement {
        try checkOpen()
        let route = try Self.check(DqliteQuery(unsafeSQL: sql), behaviour: pooled.behaviour)
        if let cached = pooled.cachedStatement(sql) {
            return DqlitePreparedStatement(session: self, sql: sql, prepared: cached, route: route)
        }
        let response = try await withBusyRetry {
            try await pooled.connection.call(.prepare(db: 0, sql: sql, schema: 0))
        }
        guard case .stmt(_, let id, let parameters, _) = response else {
            throw DqliteError(.protocolViolation, "PREPARE answered with \(response.type.name)")
        }
        let prepared = pooled.cacheStatement(sql, id: id, parameters: parameters)
        return DqlitePreparedStatement(session: self, sql: sql, prepared: prepared, route: route)
    }

    /// Runs a script of several statements (no parameters), in order, stopping at the first error.
    ///
    /// On servers that report where a statement ends (PREPARE schema 1, dqlite 1.15+) each statement is
    /// prepared from the server's tail offset; on older servers (1.11.1 ignores the rest of the SQL after the
    /// first statement) the script is split on the client, which understands strings, comments and trigger
    /// bodies. Each statement is routed as QUERY or EXEC like any other.
    public func executeScript(_ script: String) async throws {
        try checkOpen()
        var remaining = script[...]
        var useTails = true
        while true {
            let text = String(remaining)
            if DqliteConnection.isBlank(text) || Self.isOnlyComments(text) { return }
            if useTails {
                let response: Response
                do {
                    response = try await withBusyRetry {
                        try await pooled.connection.call(.prepare(db: 0, sql: text, schema: 1))
                    }
                } catch let error as DqliteError where error.resultCode == .DQLITE_PARSE {
                    useTails = false  // 1.12–1.14: no PREPARE schema 1
                    continue
                }
                guard case .stmt(_, let id, _, let tail) = response else {
                    throw DqliteError(.protocolViolation, "PREPARE answered with \(response.type.name)")
                }
                try await pooled.connection.call(.finalize(db: 0, stmt: id))
                guard let tail else {
                    useTails = false  // 1.11.1: schema-0 answer, the tail was ignored
                    continue
                }
                let utf8 = Array(text.utf8)
                let end = min(Int(clamping: tail), utf8.count)
                let first = String(decoding: utf8[..<end], as: UTF8.self)
                try await execute(DqliteQuery(unsafeSQL: first))
                remaining = String(decoding: utf8[end...], as: UTF8.self)[...]
            } else {
                let (statements, rest) = StatementSplitter.split(text)
                var all = statements
                if let last = StatementSplitter.finishing(rest) { all.append(last) }
                for statement in all { try await execute(DqliteQuery(unsafeSQL: statement.text)) }
                return
            }
        }
    }

    // MARK: - Internals

    func startRows(_ query: DqliteQuery, route: StatementRoute, options: DqliteCallOptions) async throws
        -> DqliteRowReader
    {
        let parameters = try query.checkedParameters()
        let call = SQLCall(sql: query.sql, parameters: parameters, schema: try await schema(for: parameters.count))
        return try await withBusyRetry {
            try await pooled.connection.startRows(.querySQL(call), timeout: options.timeout)
        }
    }

    /// Schema 0 up to 255 parameters; schema 1 above, only if the server reads it.
    func schema(for count: Int) async throws -> ParameterTupleSchema {
        guard count > 255 else { return .v0 }
        guard try await pooled.supportsWideParameters(timeout: .seconds(10)) else {
            throw DqliteError(
                .unsupported,
                "this server (before dqlite 1.12) takes at most 255 parameters per statement; got \(count)",
                node: node.description)
        }
        return .v1
    }

    /// Re-sends an operation the server refused with SQLITE_BUSY, with backoff, within the busy timeout.
    func withBusyRetry<Result>(_ operation: () async throws -> Result) async throws -> Result {
        let clock = ContinuousClock()
        let deadline = clock.now + busyTimeout
        var attempt = 0
        while true {
            do {
                return try await operation()
            } catch let error as DqliteError where FailureKind(error, inTransaction: inTransaction) == .busy {
                let pause = BusyBackoff.delay(attempt: attempt)
                guard busyTimeout > .zero, clock.now + pause < deadline else { throw error }
                metrics.retriesBusy.increment()
                attempt += 1
                do {
                    try await Task.sleep(for: pause)
                } catch {
                    // The statement was refused (SQLITE_BUSY) and is not re-sent: nothing was applied.
                    throw DqliteError(
                        .cancelled, "cancelled while waiting to re-send a statement the server refused as busy",
                        node: node.description, underlying: error, outcome: .notApplied)
                }
            }
        }
    }

    /// Routes a query and refuses what must not be sent.
    static func check(_ query: DqliteQuery, behaviour: ServerBehaviour) throws -> StatementRoute {
        if DqliteConnection.isBlank(query.sql) { throw DqliteError(.invalidRequest, "empty SQL") }
        let route = StatementRoute(sql: query.sql)
        if route.statementCount == 0 {
            throw DqliteError(.invalidRequest, "the SQL holds no statement (only comments?)")
        }
        if route.statementCount > 1 {
            throw DqliteError(
                .invalidRequest,
                "the SQL holds \(route.statementCount) statements: run one at a time, or use executeScript")
        }
        if route.hasReturning && !behaviour.returningIsSafe {
            throw DqliteError(
                .unsupported,
                "RETURNING is refused on this server: dqlite before 1.18.2 loses the write and then aborts on the next one"
            )
        }
        return route
    }

    static func isOnlyComments(_ text: String) -> Bool {
        StatementRoute(sql: text).statementCount == 0
    }
}
