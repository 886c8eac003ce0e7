import Dqlite

/// The client configuration the workloads use, and the time bounds that follow from it.
///
/// The SDK has no single per-operation deadline: a call is bounded by the composition of its parts (waiting
/// for a pooled connection, finding the leader, opening the database, the call itself, busy retries) over
/// its attempts. ``autocommitDeadline`` and ``transactionDeadline(statements:)`` compute that bound; an
/// operation that takes longer is a hang.
struct ClientSettings: Sendable {
    var connectTimeout: Duration = .seconds(1)
    var callTimeout: Duration = .seconds(2)
    var probeTimeout: Duration = .seconds(1)
    var discoveryTimeout: Duration = .seconds(5)
    var backoffBase: Duration = .milliseconds(25)
    var backoffCap: Duration = .milliseconds(250)
    var leaseTimeout: Duration = .seconds(5)
    var busyTimeout: Duration = .seconds(1)
    var maximumAttempts = 3
    var maximumConnections = 8
    /// `withTransaction(retry:)` runs of the closure.
    var transactionRuns = 3

    func configuration(seeds: [String], database: String) throws -> DqliteClient.Configuration {
        let connection = DqliteConnection.Configuration(
            connectTimeout: connectTimeout, defaultCallTimeout: callTimeout, interruptDrainTimeout: .seconds(2),
            tcpUserTimeout: .seconds(5))
        return DqliteClient.Configuration(
            nodes: try seeds.map { try DqliteNodeAddress($0) }, database: database, connection: connection,
            discovery: .init(
                probeTimeout: probeTimeout, timeout: discoveryTimeout, backoffBase: backoffBase, backoffCap: backoffCap),
            pool: .init(maximumConnections: maximumConnections, leaseTimeout: leaseTimeout),
            busyTimeout: busyTimeout, maximumAttempts: maximumAttempts)
    }

    /// Worst case of making a pooled connection: the discovery deadline, plus one round that started just
    /// before it (dial and LEADER, then the redirect's dial and LEADER), the CLUSTER refresh, OPEN and the
    /// behaviour probe.
    var connectionSetup: Duration {
        discoveryTimeout + (connectTimeout + probeTimeout) * 2 + probeTimeout + callTimeout + probeTimeout
    }

    /// The bound of one autocommit statement (or query, first batch) over all its attempts.
    var autocommitDeadline: Duration {
        (leaseTimeout + connectionSetup + busyTimeout + callTimeout) * maximumAttempts
    }

    /// The bound of a transaction of `statements` statements (BEGIN and COMMIT included), over its runs.
    func transactionDeadline(statements: Int) -> Duration {
        (leaseTimeout + connectionSetup + (busyTimeout + callTimeout) * statements) * transactionRuns
    }

    /// raft's randomized election timeout upper bound (2 × 15 × latency).
    static var electionTimeoutMax: Duration { FaultEnvironment.electionTimeout * 2 }

    /// The longest pause between discovery rounds: the cap with its +50 % jitter.
    var backoffMax: Duration { backoffCap * 1.5 }

    /// The failover budget: 2 × the (randomized, maximal) election timeout plus the longest discovery backoff.
    var failoverBudget: Duration { Self.electionTimeoutMax * 2 + backoffMax }
}
