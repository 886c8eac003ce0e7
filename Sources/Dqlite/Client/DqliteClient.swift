import CoreMetrics
import DqliteWire
import Logging
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle

/// The dqlite client applications use: a leader-aware pool of connections, the SQL API, and cluster
/// administration.
///
/// ```swift
/// let client = DqliteClient(configuration: .init(nodes: [try DqliteNodeAddress("10.0.0.1:9001")], database: "app"),
///                           backgroundLogger: logger)
/// try await withThrowingDiscardingTaskGroup { group in
///     group.addTask { try await client.run() }       // housekeeping; or add it to a ServiceGroup
///     try await client.execute("INSERT INTO users (name) VALUES (\(name))")
///     for try await row in try await client.query("SELECT id, name FROM users") { … }
///     try await client.withTransaction { tx in … }
///     client.shutdown()
/// }
/// ```
///
/// - Every connection goes to the current leader (found by ``DqliteLeaderDiscovery``); when leadership moves,
///   the pool drops its connections and the next call finds the new leader.
/// - Calls retry only when that is provably safe: the connection failed before the request was sent, the
///   node refused it as not the leader, the statement only reads, or the caller marked it idempotent. A write
///   whose answer was lost fails with ``DqliteError/Code/ambiguousCommit``; it is never re-sent blindly.
/// - SQLITE_BUSY is retried with backoff up to ``Configuration/busyTimeout``.
/// - ``run()`` does background housekeeping (idle connections, the minimum pool size) and shuts the client down
///   when cancelled or on graceful shutdown; the client also works without it.
public final class DqliteClient: Sendable, Service {
    /// The configuration.
    public let configuration: Configuration
    /// The leader discovery shared by every pool of this client.
    public let discovery: DqliteLeaderDiscovery
    let backgroundLogger: Logger
    /// The channels of the pooled connections still open (each removes itself when it closes).
    private let openChannels = NIOLockedValueBox<[ObjectIdentifier: EventLoopFuture<Void>]>([:])
    /// The configured database's metrics instruments (most calls use it: no lock to find them).
    private let defaultMetrics: ClientMetrics
    /// The other databases' metrics instruments (created once per database).
    private let metricsByDatabase = NIOLockedValueBox<[String: ClientMetrics]>([:])
    /// The pools by database, whether the client is shut down, and whether ``run()`` was called: one lock, so
    /// that a pool is either created before `shutdown()` (and shut down by it) or refused after it.
    private let pools = NIOLockedValueBox<(byDatabase: [String: ConnectionPool], closed: Bool, ran: Bool)>(
        ([:], false, false))

    /// Creates a client. No connection is made until the first call.
    public init(configuration: Configuration, backgroundLogger: Logger? = nil) {
        var configuration = configuration
        configuration.discovery.connection = configuration.connection
        self.configuration = configuration
        self.discovery = DqliteLeaderDiscovery(
            seeds: configuration.nodes, store: configuration.nodeStore, configuration: configuration.discovery)
        self.backgroundLogger = backgroundLogger ?? DqliteConnection.silentLogger
        self.defaultMetrics = ClientMetrics(database: configuration.database, factory: configuration.metricsFactory)
    }

    /// Background housekeeping until cancelled or until graceful shutdown; then the client shuts down.
    ///
    /// Call it once: a second call throws ``DqliteError/Code/invalidRequest`` at once (two housekeeping loops
    /// would each shut the client down when they end).
    public func run() async throws {
        let first = pools.withLockedValue { state in
            defer { state.ran = true }
            return !state.ran
        }
        guard first else { throw DqliteError(.invalidRequest, "run() was already called on this client") }
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled && !self.isShutDown {
                for pool in self.allPools { await pool.maintain(logger: self.backgroundLogger) }
                try? await Task.sleep(for: .seconds(1))
            }
        }
        shutdown()
    }

    /// Shuts the client down (as ``shutdown()``) and waits until every pooled connection is closed, at most
    /// `timeout`: idle connections close at once, leased ones when their holders give them back. Returns false
    /// if some were still open at the deadline (or the task was cancelled); they close when given back.
    @discardableResult
    public func shutdown(waitingUpTo timeout: Duration) async -> Bool {
        shutdown()
        let deadline = ContinuousClock.now + timeout
        while openConnectionCount > 0 {
            guard ContinuousClock.now < deadline, !Task.isCancelled else { return false }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return true
    }

    /// Pooled connections whose channel is still open.
    var openConnectionCount: Int { openChannels.withLockedValue { $0.count } }

    /// Closes every connection; later calls fail with ``DqliteError/Code/poolClosed``. Leased connections close
    /// when they are given back; ``shutdown(waitingUpTo:)`` waits for that.
    public func shutdown() {
        let all = pools.withLockedValue { state in
            state.closed = true
            return Array(state.byDatabase.values)
        }
        for pool in all { pool.shutDown() }
    }

    var isShutDown: Bool { pools.withLockedValue { $0.closed } }

    /// True once ``run()`` was called.
    var hasRun: Bool { pools.withLockedValue { $0.ran } }

    private var allPools: [ConnectionPool] { pools.withLockedValue { Array($0.byDatabase.values) } }

    /// Another database of the same cluster (its own pool; the leader search is shared).
    public func database(_ name: String) -> DqliteDatabase { DqliteDatabase(client: self, name: name) }

    /// The configured database.
    public var defaultDatabase: DqliteDatabase { database(configuration.database) }

    /// Cluster administration over the same seeds and node store, sharing the client's leader discovery.
    public var admin: DqliteClusterAdmin {
        DqliteClusterAdmin(
            discovery: discovery, configuration: .init(discovery: configuration.discovery), logger: backgroundLogger)
    }

    // MARK: - The default database's API

    /// Runs a statement that returns no rows (see ``DqliteDatabase/execute(_:options:logger:)``).
    @discardableResult
    public func execute(_ query: DqliteQuery, options: DqliteCallOptions = .default, logger: Logger? = nil) async throws
        -> DqliteExecResult
    {
        try await defaultDatabase.execute(query, options: options, logger: logger)
    }

    /// Runs a query and streams its rows (see ``DqliteDatabase/query(_:options:logger:)``).
    public func query(_ query: DqliteQuery, options: DqliteCallOptions = .default, logger: Logger? = nil) async throws
        -> DqliteRowSequence
    {
        try await defaultDatabase.query(query, options: options, logger: logger)
    }

    /// Runs `body` with one leased connection, on the caller's actor (see
    /// ``DqliteDatabase/withConnection(logger:isolation:_:)``).
    @discardableResult
    public func withConnection<Result>(
        logger: Logger? = nil, isolation: isolated (any Actor)? = #isolation,
        _ body: (DqliteSession) async throws -> sending Result
    ) async throws -> sending Result {
        try await defaultDatabase.withConnection(logger: logger, isolation: isolation, body)
    }

    /// Runs `body` in a transaction, on the caller's actor (see
    /// ``DqliteDatabase/withTransaction(kind:retry:logger:isolation:_:)``).
    @discardableResult
    public func withTransaction<Result>(
        kind: DqliteTransactionKind = .deferred, retry: DqliteTransactionRetry = .never, logger: Logger? = nil,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (DqliteSession) async throws -> sending Result
    ) async throws -> sending Result {
        try await defaultDatabase.withTransaction(kind: kind, retry: retry, logger: logger, isolation: isolation, body)
    }

    /// Runs a multi-statement script (see ``DqliteSession/executeScript(_:)``).
    public func executeScript(_ script: String, logger: Logger? = nil) async throws {
        try await defaultDatabase.withConnection(logger: logger) { try await $0.executeScript(script) }
    }

    // MARK: - Pools

    func pool(for database: String) throws -> ConnectionPool {
        try pools.withLockedValue { state in
            if state.closed { throw DqliteError(.poolClosed, "the client is shut down") }
            if let pool = state.byDatabase[database] { return pool }
            let settings = configuration.pool
            let pool = ConnectionPool(
                database: database,
                configuration: .init(
                    minimumConnections: settings.minimumConnections, maximumConnections: settings.maximumConnections,
                    maximumWaiters: settings.maximumWaiters, idleTimeout: settings.idleTimeout,
                    checkAfterIdle: settings.checkAfterIdle, checkTimeout: configuration.discovery.probeTimeout),
                factory: { [self] generation, logger in
                    try await self.openConnection(database: database, generation: generation, logger: logger)
                },
                onLeaderChange: { [self] in
                    self.metrics(for: database).leaderChanges.increment()
                    self.discovery.forgetLeader()
                    self.leaderChanged(except: database)
                })
            state.byDatabase[database] = pool
            return pool
        }
    }

    /// The metrics instruments of `database`.
    func metrics(for database: String) -> ClientMetrics {
        if database == configuration.database { return defaultMetrics }
        return metricsByDatabase.withLockedValue { cache in
            if let metrics = cache[database] { return metrics }
            let metrics = ClientMetrics(database: database, factory: configuration.metricsFactory)
            cache[database] = metrics
            return metrics
        }
    }

    /// Every other database's pool learns of the leader change too (they all point at the same leader).
    private func leaderChanged(except database: String) {
        let others = pools.withLockedValue { state in
            state.byDatabase.filter { $0.key != database }.map(\.value)
        }
        for pool in others { pool.dropIdleConnections() }
    }

    /// A new connection for a pool: find the leader, OPEN the database, probe the server's behaviour.
    func openConnection(database: String, generation: UInt64, logger: Logger) async throws -> PooledConnection {
        let connection = try await discovery.connectToLeader(logger: logger)
        do {
            try await connection.call(.open(database: database, flags: 0, vfs: "volatile"))
            let behaviour = try await ServerBehaviour.probe(connection, timeout: configuration.discovery.probeTimeout)
            logger.debug(
                "dqlite connection opened",
                metadata: [
                    "node": "\(connection.address)", "database": "\(database)",
                    "returning": "\(behaviour.returningIsSafe)",
                ])
            let key = ObjectIdentifier(connection)
            let closed = connection.channel.closeFuture
            openChannels.withLockedValue { $0[key] = closed }
            closed.whenComplete { [openChannels] _ in openChannels.withLockedValue { $0[key] = nil } }
            return PooledConnection(
                connection: connection, database: database, generation: generation, behaviour: behaviour)
        } catch {
            await connection.close()
            throw error
        }
    }
}
