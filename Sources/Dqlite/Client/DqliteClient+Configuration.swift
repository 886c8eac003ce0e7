import CoreMetrics
import Tracing

extension DqliteClient {
    /// Everything a client needs: where the cluster is, which database, and its limits and policies.
    public struct Configuration: Sendable {
        /// Connection-pool settings (per database).
        public struct Pool: Sendable, Hashable {
            /// Connections kept open even when idle (default 0).
            public var minimumConnections: Int
            /// Most connections to the leader (default 8).
            public var maximumConnections: Int
            /// Most callers waiting for a connection; more fail at once with ``DqliteError/Code/poolExhausted``
            /// (default 1000).
            public var maximumWaiters: Int
            /// How long a caller waits for a free connection (default 10 s).
            public var leaseTimeout: Duration
            /// Idle connections beyond the minimum are closed after this (default 60 s).
            public var idleTimeout: Duration
            /// A connection idle this long is checked (LEADER must still name its node) before reuse
            /// (default 5 s).
            public var checkAfterIdle: Duration

            public init(
                minimumConnections: Int = 0, maximumConnections: Int = 8, maximumWaiters: Int = 1000,
                leaseTimeout: Duration = .seconds(10), idleTimeout: Duration = .seconds(60),
                checkAfterIdle: Duration = .seconds(5)
            ) {
                self.minimumConnections = minimumConnections
                self.maximumConnections = maximumConnections
                self.maximumWaiters = maximumWaiters
                self.leaseTimeout = leaseTimeout
                self.idleTimeout = idleTimeout
                self.checkAfterIdle = checkAfterIdle
            }
        }

        /// Seed addresses of cluster members (one is enough; more survive its loss).
        public var nodes: [DqliteNodeAddress]
        /// Where members are remembered between searches (default: in memory).
        public var nodeStore: any DqliteNodeStore
        /// The database used by the client's own ``DqliteClient/execute(_:options:logger:)`` etc.
        public var database: String
        /// How connections are made (timeouts, TLS, keepalive, limits).
        public var connection: DqliteConnection.Configuration
        /// How the leader is found (its `connection` field is replaced by ``connection``).
        public var discovery: DqliteLeaderDiscovery.Configuration
        /// The pool.
        public var pool: Pool
        /// Like SQLite's `busy_timeout`: a statement the server refused with SQLITE_BUSY (it did not run) is
        /// re-sent with jittered backoff until this much time has passed. Default 5 s; zero turns it off.
        public var busyTimeout: Duration
        /// Attempts for a statement whose connection failed before it ran (not leader, connection lost
        /// before sending, …) or that is safe to repeat (reads, idempotent calls). Default 3.
        public var maximumAttempts: Int
        /// Runs the work of a session (the closure of ``DqliteClient/withConnection(logger:isolation:_:)`` and
        /// ``DqliteClient/withTransaction(kind:retry:logger:isolation:_:)``, and the client's own `execute`/`query` calls) on
        /// its connection's NIO event loop, through a task executor preference. Default false.
        ///
        /// A request and its answer then stay on one thread instead of crossing between the event loop and
        /// Swift's global concurrency pool twice, which is most of the latency of a small request. The cost:
        /// your code inside those closures runs on an event loop too, and other connections on that loop wait
        /// while it computes. Turn it on only if that code does not block (no blocking I/O, locks held long,
        /// or heavy computation). Rows read outside those closures are not affected.
        public var runsSessionsOnEventLoop: Bool = false
        /// Queues this client's autocommit writes (``DqliteClient/execute(_:options:logger:)`` of a statement
        /// that is not read-only, outside transactions) so that one at a time is sent, in arrival order.
        /// Default false.
        ///
        /// dqlite runs one write transaction at a time and refuses the others with SQLITE_BUSY, which the client
        /// then re-sends with backoff: with many concurrent writers that is a race in which a writer can lose
        /// many times in a row. The queue makes the wait fair and spares the server the refused attempts.
        /// Writes from other clients and from transactions still meet SQLITE_BUSY (and are retried as usual).
        /// A queued write waits for those ahead of it; each of those is bounded by its call deadline and the
        /// busy timeout, and a cancelled task leaves the queue.
        ///
        /// The queue also keeps this client's writes from overlapping in the server's raft log: its write rate
        /// is at most one per commit latency. When commits are slow (a slow disk, several nodes), concurrent
        /// writers without it can commit more per second, at the price of busy retries and a long tail.
        public var serializesWrites: Bool = false
        /// Logs bound parameter values with each statement (debug level). Default false: statements are logged
        /// with their SQL text and the number of parameters only, since values may be secrets or personal data
        /// (as GRDB's `publicStatementArguments`).
        public var logsStatementParameters: Bool = false
        /// Where the client's metrics go (calls, failures, durations, pool waits, retries, leader changes; each
        /// with the dimension `database`). Default: the process-wide `MetricsSystem.factory`.
        public var metricsFactory: any MetricsFactory = MetricsSystem.factory
        /// Where the client's spans go: one per statement and one per transaction, with OpenTelemetry's database
        /// attributes (bound values only with ``logsStatementParameters``). Default nil: the bootstrapped
        /// `InstrumentationSystem.tracer` (a no-op unless the application bootstraps one).
        public var tracer: (any Tracer)? = nil

        /// A configuration for `database` on the cluster reachable through `nodes`.
        public init(
            nodes: [DqliteNodeAddress], database: String, nodeStore: any DqliteNodeStore = InMemoryNodeStore(),
            connection: DqliteConnection.Configuration = .init(),
            discovery: DqliteLeaderDiscovery.Configuration = .init(),
            pool: Pool = .init(), busyTimeout: Duration = .seconds(5), maximumAttempts: Int = 3
        ) {
            self.nodes = nodes
            self.database = database
            self.nodeStore = nodeStore
            self.connection = connection
            self.discovery = discovery
            self.pool = pool
            self.busyTimeout = busyTimeout
            self.maximumAttempts = maximumAttempts
        }
    }
}

/// Per-call options.
public struct DqliteCallOptions: Sendable, Hashable {
    /// Deadline of the call (each row batch, for queries). Default: the connection's default call timeout.
    public var timeout: Duration?
    /// Declares the statement safe to run twice (e.g. an upsert with a client-chosen key): it may then be
    /// retried even when the connection failed after it was sent.
    public var idempotent: Bool

    public init(timeout: Duration? = nil, idempotent: Bool = false) {
        self.timeout = timeout
        self.idempotent = idempotent
    }

    /// The defaults.
    public static let `default` = DqliteCallOptions()
}
