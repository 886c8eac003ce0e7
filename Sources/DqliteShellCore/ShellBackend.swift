import DqliteWire

/// Where the shell's SQL and cluster commands go. The shell core does not link the client library: the
/// `dqlite-shell` executable implements these protocols with `DqliteClient`, tests with fakes.
public protocol ShellConnector: Sendable {
    /// The database the shell uses (one file in the cluster).
    var database: String { get }
    /// Cluster administration (leader, members, membership, metadata, DUMP). Works without a session.
    var cluster: any ShellCluster { get }
    /// Leases one connection to the leader with the database open and runs `body` with it; the connection
    /// is given back (or closed, after a failure) when `body` returns.
    func withSession<Result>(_ body: (any ShellSession) async throws -> Result) async throws -> Result
    /// How the shell reports an error thrown by this connector, its sessions or its cluster.
    func describe(_ error: any Error) -> ShellFailure
}

/// One leased connection: statements run on it in order, so a `BEGIN` holds its transaction across lines.
public protocol ShellSession: Sendable {
    /// The node the session talks to, as an address (for messages).
    var node: String { get }
    /// Runs one statement with positional parameters. When `returnsRows` is true the rows are passed to
    /// `sink` as they arrive (`begin(columns:)` first); an error thrown by the sink stops the statement and
    /// is rethrown. Cancelling the calling task stops the statement.
    func run<Sink: ShellRowSink>(
        _ sql: String, parameters: [WireValue], returnsRows: Bool, sink: inout Sink
    ) async throws -> ShellExecSummary
    /// Called after a statement was interrupted: finishes stopping it on the server (an abandoned row
    /// stream is interrupted and drained). Returns why the connection is no longer usable, or nil.
    func settleAfterInterrupt() async -> ShellFailure?
}

/// Receives the rows of one statement.
public protocol ShellRowSink {
    /// The result's column names, before any row.
    mutating func begin(columns: [String])
    /// One row; throws to stop the statement (e.g. the output was closed).
    mutating func row(_ values: [WireValue]) throws
}

/// What a statement that ran to the end reports.
public struct ShellExecSummary: Hashable, Sendable {
    /// Rows returned (statements run as queries).
    public var rows: Int
    /// Rows changed (statements run as EXEC), when known.
    public var rowsAffected: Int?
    /// The last inserted rowid (statements run as EXEC), when known.
    public var lastInsertID: Int64?

    /// Creates a summary.
    public init(rows: Int = 0, rowsAffected: Int? = nil, lastInsertID: Int64? = nil) {
        self.rows = rows
        self.rowsAffected = rowsAffected
        self.lastInsertID = lastInsertID
    }
}

/// An error as the shell reports it.
public struct ShellFailure: Error, Hashable, Sendable, CustomStringConvertible {
    /// One line for the user, e.g. `UNIQUE constraint failed: u.k (SQLITE_CONSTRAINT_UNIQUE)` or
    /// `cannot connect: connection refused (connectFailed) [node 127.0.0.1:9001]`.
    public var message: String
    /// The session's connection can no longer be used: the shell reconnects.
    public var connectionLost: Bool
    /// The statement certainly did not run (it was never sent, or refused before running), so running it
    /// again on a new connection is safe.
    public var notApplied: Bool

    /// Creates a failure.
    public init(message: String, connectionLost: Bool = false, notApplied: Bool = false) {
        self.message = message
        self.connectionLost = connectionLost
        self.notApplied = notApplied
    }

    public var description: String { message }
}

/// A cluster member as the shell shows it: DqliteWire's ``NodeInfo`` (id, address, role), the record CLUSTER
/// carries.
public typealias ShellNodeInfo = NodeInfo

/// Whether a node answered a probe.
public enum ShellReachability: Hashable, Sendable, CustomStringConvertible {
    /// It accepted a connection and answered a request.
    case reachable
    /// It did not, for this reason.
    case unreachable(String)

    public var description: String {
        switch self {
        case .reachable: return "reachable"
        case .unreachable(let reason): return "unreachable (\(reason))"
        }
    }
}

/// A node's metadata (DESCRIBE).
public struct ShellNodeMetadata: Hashable, Sendable {
    /// The node asked.
    public var address: String
    /// Its failure domain.
    public var failureDomain: UInt64
    /// Its weight.
    public var weight: UInt64

    /// Creates metadata.
    public init(address: String, failureDomain: UInt64, weight: UInt64) {
        self.address = address
        self.failureDomain = failureDomain
        self.weight = weight
    }
}

/// Cluster administration as the shell's dot-commands use it.
public protocol ShellCluster: Sendable {
    /// The current leader.
    func leader() async throws -> ShellNodeInfo
    /// The members as the leader sees them, and the leader's address.
    func members() async throws -> (members: [ShellNodeInfo], leader: String?)
    /// Tries to reach one node within `timeout`.
    func probe(_ address: String, timeout: Duration) async -> ShellReachability
    /// Adds a node with a role (confirmed).
    func add(id: UInt64, address: String, role: ShellNodeRole) async throws
    /// Changes a node's role (confirmed).
    func assign(id: UInt64, role: ShellNodeRole) async throws
    /// Removes a node (confirmed).
    func remove(_ node: NodeReference) async throws
    /// Hands leadership to node `id` (nil: another voter); returns the new leader.
    func transfer(to id: UInt64?) async throws -> ShellNodeInfo
    /// A node's failure domain and weight; nil asks the leader.
    func describe(address: String?) async throws -> ShellNodeMetadata
    /// Sets a node's weight.
    func setWeight(_ weight: UInt64, address: String) async throws
    /// The database's files (the database, then its WAL) as a node holds them (DUMP).
    func dump(database: String) async throws -> [DumpFile]
}
