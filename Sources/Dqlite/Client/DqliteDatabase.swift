import CoreMetrics
import DqliteWire
import Logging

/// One database of the cluster, reached through the client's pool: the SQL API.
public struct DqliteDatabase: Sendable {
    let client: DqliteClient
    /// The database name (one file in the cluster).
    public let name: String

    init(client: DqliteClient, name: String) {
        self.client = client
        self.name = name
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
        if client.configuration.serializesWrites, !route.isReadOnly, route.transactionControl == nil {
            return try await client.pool(for: name).writeGate.withGate {
                try await withRetries(route: route, options: options, logger: logger) { session in
                    try await session.execute(query, options: options)
                }
            }
        }
        return try await withRetries(route: route, options: options, logger: logger) { session in
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
        return try await withRetries(route: route, options: options, logger: logger, keepLease: true) { session in
            let rows = try await session.query(query, options: options)
            guard let reader = rows.reader else {
                try client.pool(for: name).release(session.pooled, reusable: true)
                return rows
            }
            return DqliteRowSequence(reader: reader, lease: .init(session.pooled, pool: try client.pool(for: name)))
        }
    }

    /// Runs `body` with one leased connection to the leader (database open), then gives it back.
    public func withConnection<Result>(logger: Logger? = nil, _ body: (DqliteSession) async throws -> Result)
        async throws -> Result
    {
        let logger = logger ?? client.backgroundLogger
        let pool = try client.pool(for: name)
        let pooled = try await lease(pool, logger: logger)
        let session = DqliteSession(
            pooled: pooled, busyTimeout: client.configuration.busyTimeout, inTransaction: false, logger: logger,
            metrics: client.metrics)
        do {
            let result = try await onEventLoop(of: pooled) { try await body(session) }
            session.end()
            pool.release(pooled, reusable: true)
            return result
        } catch {
            session.end()
            release(pooled, pool: pool, after: error)
            throw error
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
    public func withTransaction<Result>(
        retry: DqliteTransactionRetry = .never, logger: Logger? = nil, _ body: (DqliteSession) async throws -> Result
    ) async throws -> Result {
        let logger = logger ?? client.backgroundLogger
        let pool = try client.pool(for: name)
        var attempt = 1
        while true {
            let pooled = try await lease(pool, logger: logger)
            let session = DqliteSession(
                pooled: pooled, busyTimeout: client.configuration.busyTimeout, inTransaction: true, logger: logger,
                metrics: client.metrics)
            let result: Result
            defer { session.end() }
            do {
                result = try await onEventLoop(of: pooled) {
                    try await session.execute("BEGIN")
                    return try await body(session)
                }
            } catch {
                let aborted = Self.transactionAbort(error)
                if let aborted {
                    release(pooled, pool: pool, after: error)
                    if attempt < retry.maximumAttempts {
                        attempt += 1
                        client.metrics.retriesTransaction.increment()
                        logger.debug(
                            "dqlite transaction re-run after leadership change", metadata: ["attempt": "\(attempt)"])
                        continue
                    }
                    throw aborted
                }
                // The body failed (or BEGIN did): roll back on a healthy connection.
                if pooled.isUsable, (try? await session.execute("ROLLBACK")) != nil {
                    pool.release(pooled, reusable: true)
                } else {
                    pool.release(pooled, reusable: false)
                }
                throw error
            }
            do {
                try await session.execute("COMMIT")
            } catch let error as DqliteError {
                // Never ROLLBACK after a failed COMMIT: close the connection instead.
                pool.release(pooled, reusable: false)
                if FailureKind(error, inTransaction: true).meansLeaderChanged { pool.leaderChanged() }
                // Refused before it ran (not leader, database closed by a leadership change): nothing was
                // committed, so the transaction is aborted — and may be re-run.
                if error.outcome == .notApplied, let aborted = Self.transactionAbort(error) {
                    if attempt < retry.maximumAttempts {
                        attempt += 1
                        client.metrics.retriesTransaction.increment()
                        logger.debug(
                            "dqlite transaction re-run after its COMMIT was refused",
                            metadata: ["attempt": "\(attempt)"])
                        continue
                    }
                    throw aborted
                }
                if error.outcome == .unknown {
                    var ambiguous = DqliteError(
                        .ambiguousCommit, "COMMIT was sent but its outcome is unknown: \(error.message)",
                        resultCode: error.resultCode, node: error.node, underlying: error, outcome: .unknown)
                    ambiguous.attempts = error.attempts
                    throw ambiguous
                }
                throw error
            }
            pool.release(pooled, reusable: true)
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

    private func lease(_ pool: ConnectionPool, logger: Logger) async throws -> PooledConnection {
        let clock = ContinuousClock()
        let start = clock.now
        defer {
            client.metrics.poolWait.recordNanoseconds(
                Int64(
                    (clock.now - start).components.attoseconds / 1_000_000_000 + (clock.now - start).components.seconds
                        * 1_000_000_000))
        }
        return try await pool.lease(deadline: start + client.configuration.pool.leaseTimeout, logger: logger)
    }

    /// Gives a connection back after an error; a leadership failure drops the pool's other connections.
    private func release(_ pooled: PooledConnection, pool: ConnectionPool, after error: any Error) {
        guard let failure = error as? DqliteError else {
            pool.release(pooled, reusable: true)
            return
        }
        let kind = FailureKind(failure, inTransaction: false)
        pool.release(pooled, reusable: pooled.isUsable && !kind.meansLeaderChanged)
        if kind.meansLeaderChanged { pool.leaderChanged() }
    }

    /// Runs `body` on the connection's event loop when ``DqliteClient/Configuration/runsSessionsOnEventLoop``
    /// is on, else where it is.
    private func onEventLoop<Result>(
        of pooled: PooledConnection, isolation: isolated (any Actor)? = #isolation,
        _ body: () async throws -> Result
    ) async throws -> Result {
        guard client.configuration.runsSessionsOnEventLoop else { return try await body() }
        return try await withTaskExecutorPreference(pooled.connection.taskExecutor) { try await body() }
    }

    /// Runs `operation` on a leased connection, retrying when that is provably safe.
    private func withRetries<Result>(
        route: StatementRoute, options: DqliteCallOptions, logger: Logger?, keepLease: Bool = false,
        _ operation: (DqliteSession) async throws -> Result
    ) async throws -> Result {
        let logger = logger ?? client.backgroundLogger
        let pool = try client.pool(for: name)
        let metrics = client.metrics
        let clock = ContinuousClock()
        let started = clock.now
        var attempt = 1
        metrics.calls.increment()
        defer {
            let elapsed = clock.now - started
            metrics.callDuration.recordNanoseconds(
                elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
        }
        while true {
            let pooled: PooledConnection
            do {
                pooled = try await lease(pool, logger: logger)
            } catch {
                metrics.failures.increment()
                throw error
            }
            let session = DqliteSession(
                pooled: pooled, busyTimeout: client.configuration.busyTimeout, inTransaction: false, logger: logger,
                metrics: metrics)
            defer { session.end() }
            do {
                let result = try await onEventLoop(of: pooled) { try await operation(session) }
                if !keepLease { pool.release(pooled, reusable: true) }
                return result
            } catch let error as DqliteError {
                release(pooled, pool: pool, after: error)
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
                guard safe, attempt < client.configuration.maximumAttempts else {
                    metrics.failures.increment()
                    throw error
                }
                attempt += 1
                logger.debug(
                    "dqlite call retried",
                    metadata: ["attempt": "\(attempt)", "reason": "\(kind)", "error": "\(error)"])
            } catch {
                pool.release(pooled, reusable: pooled.isUsable)
                metrics.failures.increment()
                throw error
            }
        }
    }
}
