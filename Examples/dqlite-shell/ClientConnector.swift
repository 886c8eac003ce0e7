import Dqlite
import DqliteShellCore
import DqliteWire

/// The shell core's view of the cluster, through `DqliteClient` (sessions) and `DqliteClusterAdmin`.
struct ClientConnector: ShellConnector {
    let client: DqliteClient
    let database: String
    let admin: ClientCluster
    /// Deadline of each statement's calls (each batch of rows); Ctrl-C is the usual way to stop one.
    let statementTimeout: Duration

    init(client: DqliteClient, statementTimeout: Duration) {
        self.client = client
        self.database = client.configuration.database
        self.admin = ClientCluster(admin: client.admin, connection: client.configuration.connection)
        self.statementTimeout = statementTimeout
    }

    var cluster: any ShellCluster { admin }

    func withSession<Result>(_ body: (any ShellSession) async throws -> Result) async throws -> Result {
        try await client.withConnection { session in
            try await body(ClientSession(session: session, timeout: statementTimeout))
        }
    }

    func describe(_ error: any Error) -> ShellFailure {
        guard let error = error as? DqliteError else {
            if error is CancellationError { return ShellFailure(message: "cancelled") }
            return ShellFailure(message: "\(error)")
        }
        switch error.code {
        case .server:
            let code = error.resultCode?.rawValue ?? 1
            let line = ErrorLine.format(message: error.message, code: code)
            switch code {
            case 10250, 8202:  // not the leader: refused before running
                return ShellFailure(
                    message: line + " [node \(error.node ?? "?")]", connectionLost: true, notApplied: true)
            case 10506, 8458:  // leadership lost while replicating
                return ShellFailure(message: line + " [node \(error.node ?? "?")]", connectionLost: true)
            case 12 where error.message.contains("no database opened"):
                return ShellFailure(message: line, connectionLost: true, notApplied: true)
            default:
                return ShellFailure(message: line)
            }
        case .connectionClosed, .connectionPoisoned, .timeout, .protocolViolation, .tls, .connectFailed:
            return ShellFailure(
                message: error.description, connectionLost: true, notApplied: error.outcome == .notApplied)
        case .cancelled:
            return ShellFailure(message: "cancelled")
        default:
            return ShellFailure(message: error.description)
        }
    }
}

/// One leased connection.
struct ClientSession: ShellSession {
    let session: DqliteSession
    let timeout: Duration

    var node: String { session.node.description }

    func run<Sink: ShellRowSink>(
        _ sql: String, parameters: [WireValue], returnsRows: Bool, sink: inout Sink
    ) async throws -> ShellExecSummary {
        let query = DqliteQuery(unsafeSQL: sql, parameters: parameters)
        let options = DqliteCallOptions(timeout: timeout)
        guard returnsRows else {
            let result = try await session.execute(query, options: options)
            return ShellExecSummary(rowsAffected: result.rowsAffected, lastInsertID: result.lastInsertID)
        }
        // Iterating in this (cancellable) task: Ctrl-C cancels it, the stream is interrupted and drained.
        let rows = try await session.query(query, options: options)
        sink.begin(columns: rows.columns.names)
        var count = 0
        for try await row in rows {
            // The sequence only notices cancellation while it waits for a frame; a fast stream always has
            // the next frame ready, so check for Ctrl-C on every row too.
            try Task.checkCancellation()
            try sink.row(row.values)
            count += 1
        }
        return ShellExecSummary(rows: count)
    }

    /// A session drains an abandoned row stream (INTERRUPT, then the rest of the stream) before its next
    /// request; a trivial request makes that happen now rather than at the user's next statement, and
    /// tells whether the connection survived.
    func settleAfterInterrupt() async -> ShellFailure? {
        do {
            try await session.execute("SELECT 1", options: DqliteCallOptions(timeout: .seconds(10)))
            return nil
        } catch let error as DqliteError
            where error.code == .server && ![10250, 8202, 10506, 8458].contains(error.resultCode?.rawValue ?? 0)
        {
            return nil
        } catch let error as DqliteError {
            let cause = (error.underlying as? DqliteError) ?? error
            if cause.code == .timeout {
                // dqlite reads INTERRUPT only after it has sent the whole result.
                return ShellFailure(
                    message: "the server was still sending rows after \(Self.drainTimeout.components.seconds) s, "
                        + "so the connection was closed to stop it",
                    connectionLost: true)
            }
            return ShellFailure(
                message: "the connection was closed to stop the statement: \(error)", connectionLost: true)
        } catch {
            return ShellFailure(
                message: "the connection was closed to stop the statement: \(error)", connectionLost: true)
        }
    }

    /// How long an interrupted row stream is drained before its connection is closed instead.
    static let drainTimeout = Duration.seconds(2)
}

/// Cluster administration.
struct ClientCluster: ShellCluster {
    let admin: DqliteClusterAdmin
    let connection: DqliteConnection.Configuration

    func leader() async throws -> ShellNodeInfo {
        Self.info(try await admin.leader())
    }

    func members() async throws -> (members: [ShellNodeInfo], leader: String?) {
        let members = try await admin.cluster()
        return (members.map(Self.info), admin.discovery.lastKnownLeader?.description)
    }

    func probe(_ address: String, timeout: Duration) async -> ShellReachability {
        let node: DqliteNodeAddress
        do { node = try DqliteNodeAddress(address) } catch { return .unreachable("invalid address") }
        var configuration = connection
        configuration.connectTimeout = timeout
        do {
            try await DqliteConnection.withConnection(to: node, configuration: configuration) { connection in
                _ = try await connection.call(.leader, timeout: timeout)
            }
            return .reachable
        } catch let error as DqliteError {
            return .unreachable(error.message)
        } catch {
            return .unreachable("\(error)")
        }
    }

    func add(id: UInt64, address: String, role: ShellNodeRole) async throws {
        try await admin.add(id: id, address: try DqliteNodeAddress(address), role: role)
    }

    func assign(id: UInt64, role: ShellNodeRole) async throws {
        try await admin.assign(id: id, role: role)
    }

    func remove(_ node: NodeReference) async throws {
        switch node {
        case .id(let id): try await admin.remove(id: id)
        case .address(let address): try await admin.remove(address: try DqliteNodeAddress(address))
        }
    }

    func transfer(to id: UInt64?) async throws -> ShellNodeInfo {
        Self.info(try await admin.transferLeadership(to: id))
    }

    func describe(address: String?) async throws -> ShellNodeMetadata {
        let node: DqliteNodeAddress
        if let address {
            node = try DqliteNodeAddress(address)
        } else {
            node = try await admin.leader().address
        }
        let (failureDomain, weight) = try await admin.describe(node: node)
        return ShellNodeMetadata(address: node.description, failureDomain: failureDomain, weight: weight)
    }

    func setWeight(_ weight: UInt64, address: String) async throws {
        try await admin.setWeight(weight, node: try DqliteNodeAddress(address))
    }

    func dump(database: String) async throws -> [DumpFile] {
        try await admin.dump(database: database)
    }

    private static func info(_ node: DqliteNodeInfo) -> ShellNodeInfo {
        ShellNodeInfo(
            id: node.id, address: node.address.description, role: node.role)
    }
}
