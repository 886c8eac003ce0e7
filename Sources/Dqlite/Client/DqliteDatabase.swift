import CoreMetrics
import DqliteWire
import Logging
import Tracing

/// One database of the cluster, reached through the client's pool: the SQL API.
public struct DqliteDatabase: Sendable {
    let client: DqliteClient
    /// The database name (one file in the cluster).
    public let name: String
    /// This database's metrics instruments (dimension `database` = ``name``).
    let metrics: ClientMetrics

    init(client: DqliteClient, name: String) {
        self.client = client
        self.name = name
        self.metrics = client.metrics(for: name)
    }

    /// Spans for this database's statements (the configured tracer, else the bootstrapped one).
    var tracing: StatementTracing {
        StatementTracing(
            tracer: client.configuration.tracer ?? InstrumentationSystem.tracer, database: name,
            logsParameters: client.configuration.logsStatementParameters)
    }

    /// Runs a statement that returns no rows.
    ///
    /// Routing keeps servers safe: a statement that can return rows (SELECT, WITH … SELECT, PRAGMA queries,
    /// EXPLAIN, VALUES, RETURNING) is sent as a query and its rows discarded; RETURNING is refused on servers
    /// before 1.18.2. Retried only when provably safe; a write whose answer was lost throws
    /// ``DqliteError/Code/ambiguousCommit``.
    @discardableResult
    public func execute(_ query: DqliteQuery, options: DqliteCallOptions = .default, logger: Logger? = nil) async throws
        -> DqliteExecResult
    {
        let route = StatementRoute(sql: query.sql)
        try Self.refuseTransactionControl(route)
        if client.configuration.serializesWrites, !route.isReadOnly {
            return try await client.pool(for: name).writeGate.withGate {
                try await withRetries(route: route, options: options, logger: logger) { session, _, options in
                    try await session.execute(query, options: options)
                }
            }
        }
        return try await withRetries(route: route, options: options, logger: logger) { session, _, options in
            try await session.execute(query, options: options)
        }
    }

    /// Runs a query and returns its rows as a lazy stream (see ``DqliteRowSequence``). The pooled connection is
    /// held until the rows are read to the end (or the sequence is dropped). A failure before the first row is
    /// retried like any read; a failure after rows were delivered is reported.
    public func query(_ query: DqliteQuery, options: DqliteCallOptions = .default, logger: Logger? = nil) async throws
        -> DqliteRowSequence
    {
        let route = StatementRoute(sql: query.sql)
        try Self.refuseTransactionControl(route)
        return try await withRetries(route: route, options: options, logger: logger, keepLease: true) {
            session, lease, options in
            let rows = try await session.query(query, options: options)
            guard let reader = rows.reader else {
                lease.release(reusable: true)
                return rows
            }
            // The stream owns the lease from here: given back when it ends or is dropped.
            return DqliteRowSequence(reader: reader, lease: lease)
        }
    }

    /// Runs `body` with one leased connection to the leader (database open), then gives it back.
    ///
    /// The connection goes back to the pool whatever `body` throws (cancellation included). If the statements
    /// that `body` ran left a transaction open (a BEGIN or SAVEPOINT without its COMMIT), it is rolled back
    /// first, with a warning, so the next user of the connection never inherits it; if that ROLLBACK fails, the
    /// connection is closed instead (which ends the transaction on the server).
    ///
    /// `body` runs on the caller's actor (`isolation`), so it may use the actor's state directly, and its
    /// result is `sending`: a non-Sendable value can be returned to the caller.
    @discardableResult
    public func withConnection<Result>(
        logger: Logger? = nil, isolation: isolated (any Actor)? = #isolation,
        _ body: (DqliteSession) async throws -> sending Result
    ) async throws -> sending Result {
        let logger = logger ?? client.backgroundLogger
        let pool = try client.pool(for: name)
        let lease = PoolLease(try await self.lease(pool, logger: logger), pool: pool)
        // Whatever is thrown below, the slot comes back (closed, when nothing else decided).
        defer { lease.release(reusable: false) }
        let pooled = lease.pooled
        let session = DqliteSession(
            pooled: pooled, busyTimeout: client.configuration.busyTimeout, inTransaction: false, logger: logger,
            metrics: metrics, logsParameters: client.configuration.logsStatementParameters, tracing: tracing)
        do {
            let result = try await onEventLoop(of: pooled) { try await body(session) }
            session.end()
            lease.release(reusable: await endOpenTransaction(session, logger: logger))
            return result
        } catch {
            session.end()
            let reusable = await endOpenTransaction(session, logger: logger)
            release(lease, after: error, reusable: reusable)
            throw Self.typed(error)
        }
    }

    /// Runs `body` inside BEGIN … COMMIT on one connection: committed when `body` returns, rolled back when it
    /// throws.
    ///
    /// - A transaction lost to a leadership change (the connection to the old leader fails, the server
    ///   closes the database) throws ``DqliteError/Code/transactionAborted`` — or, with
    ///   `retry: .onLeadershipChange()`, the whole closure runs again on the new leader.
    /// - A COMMIT that fails after being sent with its answer lost throws ``DqliteError/Code/ambiguousCommit``.
    ///   After a failed COMMIT no ROLLBACK is sent; the connection is closed, which ends the transaction on the
    ///   server if it is still open.
    /// - SQLITE_BUSY on a statement is retried with backoff (up to the busy timeout); SQLITE_BUSY_SNAPSHOT is
    ///   reported, since only restarting the transaction helps.
    /// - `kind` chooses BEGIN DEFERRED (default), IMMEDIATE or EXCLUSIVE.
    /// - Cancellation throws ``DqliteError/Code/cancelled``; the connection goes back to the pool whatever is
    ///   thrown (closed when the transaction's state on it is not known to be clean).
    /// - `body` runs on the caller's actor (`isolation`); its result is `sending`.
    @discardableResult
    public func withTransaction<Result>(
        kind: DqliteTransactionKind = .deferred, retry: DqliteTransactionRetry = .never, logger: Logger? = nil,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (DqliteSession) async throws -> sending Result
    ) async throws -> sending Result {
        let span = tracing.startTransaction(kind: kind)
        defer { span.end() }
        do {
            return try await runTransaction(
                kind: kind, retry: retry, logger: logger, tracing: tracing.within(span), span: span,
                isolation: isolation, body)
        } catch {
            StatementTracing.record(error, on: span)
            throw error
        }
    }

    /// ``withTransaction(kind:retry:logger:isolation:_:)`` inside its span.
    private func runTransaction<Result>(
        kind: DqliteTransactionKind, retry: DqliteTransactionRetry, logger: Logger?, tracing: StatementTracing,
        span: any Span, isolation: isolated (any Actor)?, _ body: (DqliteSession) async throws -> sending Result
    ) async throws -> sending Result {
        let logger = logger ?? client.backgroundLogger
        let pool = try client.pool(for: name)
        var attempt = 1
        while true {
            span.attributes["dqlite.transaction.attempts"] = attempt
            let lease = PoolLease(try await self.lease(pool, logger: logger), pool: pool)
            // Whatever is thrown below (cancellation included), the slot comes back: closed, unless a path
            // below gave it back as reusable first. Closing ends the transaction on the server.
            defer { lease.release(reusable: false) }
            let pooled = lease.pooled
            let session = DqliteSession(
                pooled: pooled, busyTimeout: client.configuration.busyTimeout, inTransaction: true, logger: logger,
                metrics: metrics, logsParameters: client.configuration.logsStatementParameters, tracing: tracing)
            defer { session.end() }
            let result: Result
            do {
                result = try await onEventLoop(of: pooled) {
                    try await session.execute(kind.beginStatement)
                    return try await body(session)
                }
            } catch {
                if let aborted = Self.transactionAbort(error) {
                    release(lease, after: error)
                    if attempt < retry.maximumAttempts {
                        attempt += 1
                        metrics.retriesTransaction.increment()
                        logger.debug(
                            "dqlite transaction re-run after leadership change", metadata: ["attempt": "\(attempt)"])
                        continue
                    }
                    throw aborted
                }
                // The body failed (or BEGIN did): roll back on a healthy connection, else close it.
                var rolledBack = false
                if pooled.isUsable { rolledBack = (try? await session.execute("ROLLBACK")) != nil }
                lease.release(reusable: rolledBack)
                // Rolled back (or its connection closed): nothing of the transaction was committed.
                throw Self.typed(error, outcome: .notApplied)
            }
            do {
                try await session.execute("COMMIT")
            } catch {
                let error = Self.dqliteError(error)
                // Never ROLLBACK after a failed COMMIT: close the connection instead.
                lease.release(reusable: false)
                if FailureKind(error, inTransaction: true).meansLeaderChanged { pool.leaderChanged() }
                // Refused before it ran (not leader, database closed by a leadership change): nothing was
                // committed, so the transaction is aborted — and may be re-run.
                if error.outcome == .notApplied, let aborted = Self.transactionAbort(error) {
                    if attempt < retry.maximumAttempts {
                        attempt += 1
                        metrics.retriesTransaction.increment()
                        logger.debug(
                            "dqlite transaction re-run after its COMMIT was refused",
                            metadata: ["attempt": "\(attempt)"])
                        continue
                    }
                    throw aborted
                }
                if error.outcome == .unknown, error.code != .cancelled {
                    var ambiguous = DqliteError(
                        .ambiguousCommit, "COMMIT was sent but its outcome is unknown: \(error.message)",
                        resultCode: error.resultCode, node: error.node, underlying: error, outcome: .unknown)
                    ambiguous.attempts = error.attempts
                    throw ambiguous
                }
                throw error
            }
            lease.release(reusable: true)
            return result
        }
    }

    /// The error to throw when a transaction was lost to a leadership change or its connection; nil for
    /// other errors.
    static func transactionAbort(_ error: any Error) -> DqliteError? {
        guard let error = error as? DqliteError else { return nil }
        switch FailureKind(error, inTransaction: true) {
        case .notLeader, .indeterminate, .connectionBeforeSend:
            return DqliteError(
                .transactionAborted, "the transaction was aborted (nothing committed): \(error.message)",
                resultCode: error.resultCode, node: error.node, underlying: error, outcome: .notApplied)
        case .busy, .final:
            return nil
        }
    }

    // MARK: - Internals

    private func lease(_ pool: ConnectionPool, logger: Logger, until callDeadline: ContinuousClock.Instant? = nil)
        async throws -> PooledConnection
    {
        let clock = ContinuousClock()
        let start = clock.now
        defer {
            metrics.poolWait.recordNanoseconds(
                Int64(
                    (clock.now - start).components.attoseconds / 1_000_000_000 + (clock.now - start).components.seconds
                        * 1_000_000_000))
        }
        let leaseDeadline = start + client.configuration.pool.leaseTimeout
        return try await pool.lease(deadline: min(leaseDeadline, callDeadline ?? leaseDeadline), logger: logger)
    }

    /// Gives a connection back after an error; a leadership failure drops the pool's other connections.
    private func release(_ lease: PoolLease, after error: any Error, reusable: Bool = true) {
        guard let failure = error as? DqliteError else {
            lease.release(reusable: reusable)
            return
        }
        let kind = FailureKind(failure, inTransaction: false)
        lease.release(reusable: reusable && lease.pooled.isUsable && !kind.meansLeaderChanged)
        if kind.meansLeaderChanged { lease.pool.leaderChanged() }
    }

    /// After a `withConnection` body: rolls back a transaction that its statements left open. Returns whether the
    /// connection is clean enough to reuse.
    private func endOpenTransaction(_ session: DqliteSession, logger: Logger) async -> Bool {
        guard session.pooled.isUsable else { return false }
        guard session.leftTransactionOpen else { return true }
        do {
            try await session.pooled.connection.call(.execSQL(SQLCall(sql: "ROLLBACK")))
            logger.warning(
                "dqlite connection handed back with a transaction open: rolled back",
                metadata: ["node": "\(session.node)", "database": "\(name)"])
            return true
        } catch let error as DqliteError where DqliteResultCode.SQLITE_ERROR ~= error.resultCode {
            // "cannot rollback - no transaction is active": the server had already ended it.
            return session.pooled.isUsable
        } catch {
            logger.warning(
                "dqlite connection handed back with a transaction open: ROLLBACK failed, connection closed",
                metadata: ["node": "\(session.node)", "database": "\(name)", "error": "\(error)"])
            return false
        }
    }

    /// BEGIN, COMMIT, ROLLBACK, SAVEPOINT and RELEASE would leave a pooled connection in (or out of) a
    /// transaction that the next caller inherits: the autocommit API refuses them.
    static func refuseTransactionControl(_ route: StatementRoute) throws {
        guard let control = route.transactionControl else { return }
        throw DqliteError(
            .invalidRequest,
            "\(control) is not allowed on the autocommit API (the pooled connection would carry the transaction to "
                + "its next user): use withTransaction, or a withConnection session")
    }

    /// The error to rethrow: cancellation becomes ``DqliteError/Code/cancelled`` (with `outcome`); the caller's own
    /// errors pass through unchanged.
    static func typed(_ error: any Error, outcome: DqliteError.Outcome = .unknown) -> any Error {
        guard error is CancellationError else { return error }
        return DqliteError(.cancelled, "the task was cancelled", underlying: error, outcome: outcome)
    }

    /// An error of the client's own (COMMIT, ROLLBACK) as a ``DqliteError``.
    static func dqliteError(_ error: any Error) -> DqliteError {
        if let error = error as? DqliteError { return error }
        if error is CancellationError {
            return DqliteError(.cancelled, "the task was cancelled", underlying: error, outcome: .unknown)
        }
        return DqliteError(.protocolViolation, "unexpected error: \(error)", underlying: error, outcome: .unknown)
    }

    /// Runs `body` on the connection's event loop when ``DqliteClient/Configuration/runsSessionsOnEventLoop``
    /// is on, else where it is.
    private func onEventLoop<Result>(
        of pooled: PooledConnection, isolation: isolated (any Actor)? = #isolation,
        _ body: () async throws -> sending Result
    ) async throws -> sending Result {
        guard client.configuration.runsSessionsOnEventLoop else { return try await body() }
        let transferred = try await withTaskExecutorPreference(pooled.connection.taskExecutor, isolation: isolation) {
            Transferred(try await body())
        }
        return transferred.take()
    }

    /// Runs `operation` on a leased connection, retrying when that is provably safe.
    ///
    /// The call's deadline (`options.timeout`, else the connection's default call timeout) is absolute: it
    /// covers the wait for a connection and every attempt, so a slow server cannot stretch a call by being
    /// retried. With `keepLease`, `operation` owns the lease once it returns (a row stream gives it back).
    private func withRetries<Result>(
        route: StatementRoute, options: DqliteCallOptions, logger: Logger?, keepLease: Bool = false,
        _ operation: (DqliteSession, PoolLease, DqliteCallOptions) async throws -> Result
    ) async throws -> Result {
        let logger = logger ?? client.backgroundLogger
        let pool = try client.pool(for: name)
        let clock = ContinuousClock()
        let started = clock.now
        let deadline = started + (options.timeout ?? client.configuration.connection.defaultCallTimeout)
        var attempt = 1
        metrics.calls.increment()
        defer {
            let elapsed = clock.now - started
            metrics.callDuration.recordNanoseconds(
                elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
        }
        while true {
            let lease: PoolLease
            do {
                lease = PoolLease(try await self.lease(pool, logger: logger, until: deadline), pool: pool)
            } catch {
                metrics.failures.increment()
                throw Self.typed(error, outcome: .notApplied)
            }
            // Whatever is thrown below, the slot comes back.
            defer { if !keepLease { lease.release(reusable: false) } }
            let session = DqliteSession(
                pooled: lease.pooled, busyTimeout: client.configuration.busyTimeout, inTransaction: false,
                logger: logger, metrics: metrics, logsParameters: client.configuration.logsStatementParameters,
                tracing: tracing)
            defer { session.end() }
            var attemptOptions = options
            attemptOptions.timeout = max(deadline - clock.now, .milliseconds(1))
            do {
                let result = try await onEventLoop(of: lease.pooled) {
                    try await operation(session, lease, attemptOptions)
                }
                if !keepLease { lease.release(reusable: true) }
                return result
            } catch let error as DqliteError {
                release(lease, after: error)
                let kind = FailureKind(error, inTransaction: false)
                let safe: Bool
                switch kind {
                case .notLeader:
                    metrics.retriesNotLeader.increment()
                    safe = true
                case .connectionBeforeSend:
                    metrics.retriesConnection.increment()
                    safe = true
                case .indeterminate where route.isReadOnly || options.idempotent:
                    metrics.retriesRead.increment()
                    safe = true
                case .indeterminate:
                    metrics.failures.increment()
                    throw DqliteError(
                        .ambiguousCommit, "the write was sent but its outcome is unknown: \(error.message)",
                        resultCode: error.resultCode, node: error.node, underlying: error, outcome: .unknown)
                case .busy, .final:
                    safe = false
                }
                guard safe, attempt < client.configuration.maximumAttempts, clock.now < deadline else {
                    metrics.failures.increment()
                    throw error
                }
                attempt += 1
                logger.debug(
                    "dqlite call retried",
                    metadata: ["attempt": "\(attempt)", "reason": "\(kind)", "error": "\(error)"])
            } catch {
                lease.release(reusable: lease.pooled.isUsable)
                metrics.failures.increment()
                throw Self.typed(error)
            }
        }
    }
}

/// Carries a value that `body` returned as `sending` through `withTaskExecutorPreference`, whose signature
/// returns a plain `T` (so the compiler no longer knows that nothing else holds the value). Sound only for
/// that use: the value comes from a `sending` result and is taken out exactly once, by the one caller.
private struct Transferred<Value>: @unchecked Sendable {
    private nonisolated(unsafe) let value: Value

    init(_ value: sending Value) { self.value = value }

    consuming func take() -> sending Value { value }
}
