import DqliteWire
import Logging

/// Cluster administration, kept apart from the data API: membership, leadership, node metadata, dumps.
///
/// Membership changes (``add(id:address:role:)``, ``assign(id:role:)``, ``remove(id:)``) go to the leader
/// and are **confirmed**: after the server accepts the change, CLUSTER is polled until the change is visible
/// (or ``Configuration/confirmationTimeout`` passes: ``DqliteError/Code/notConfirmed``). A change refused with
/// "not leader" (never executed) is re-sent to the new leader; one refused because another configuration
/// change is in progress (SQLITE_BUSY) is retried with backoff.
///
/// Requests that crash servers are never sent: DESCRIBE only with format 0, no HEARTBEAT, no empty bodies.
public struct DqliteClusterAdmin: Sendable {
    /// Admin settings.
    public struct Configuration: Sendable {
        /// How the leader is found (and connections made).
        public var discovery: DqliteLeaderDiscovery.Configuration
        /// Deadline of each request (default 30 s; promoting a node waits for it to catch up).
        public var requestTimeout: Duration
        /// How long a membership change may take to become visible (default 30 s).
        public var confirmationTimeout: Duration

        public init(
            discovery: DqliteLeaderDiscovery.Configuration = .init(), requestTimeout: Duration = .seconds(30),
            confirmationTimeout: Duration = .seconds(30)
        ) {
            self.discovery = discovery
            self.requestTimeout = requestTimeout
            self.confirmationTimeout = confirmationTimeout
        }
    }

    /// Leader discovery over the cluster's nodes.
    public let discovery: DqliteLeaderDiscovery
    /// Settings.
    public let configuration: Configuration
    let logger: Logger

    /// An admin for the cluster reachable through `seeds` (and `store`).
    public init(
        seeds: [DqliteNodeAddress], store: any DqliteNodeStore = InMemoryNodeStore(),
        configuration: Configuration = .init(),
        logger: Logger? = nil
    ) {
        self.discovery = DqliteLeaderDiscovery(seeds: seeds, store: store, configuration: configuration.discovery)
        self.configuration = configuration
        self.logger = logger ?? DqliteConnection.silentLogger
    }

    /// An admin that shares `discovery` (its cached leader and member refreshes), as a client's ``DqliteClient/admin``.
    init(discovery: DqliteLeaderDiscovery, configuration: Configuration, logger: Logger) {
        self.discovery = discovery
        self.configuration = configuration
        self.logger = logger
    }

    private var connectionConfiguration: DqliteConnection.Configuration { configuration.discovery.connection }

    // MARK: - Reading

    /// The current leader (found and confirmed by discovery).
    public func leader() async throws -> DqliteNodeInfo {
        try await withLeader { connection in
            let response = try await connection.call(.leader, timeout: configuration.requestTimeout)
            guard case .server(let id, _) = response else {
                throw DqliteError(.protocolViolation, "LEADER answered with \(response.type.name)")
            }
            let role = try await members(via: connection).first { $0.id == id }?.role ?? .voter
            return DqliteNodeInfo(id: id, address: connection.address, role: role)
        }
    }

    /// The members, as the leader sees them (CLUSTER format 1).
    public func cluster() async throws -> [DqliteNodeInfo] {
        try await withLeader { try await members(via: $0) }
    }

    /// The members as one node sees them (any node answers CLUSTER, not only the leader).
    public func cluster(asSeenBy node: DqliteNodeAddress) async throws -> [DqliteNodeInfo] {
        try await DqliteConnection.withConnection(to: node, configuration: connectionConfiguration, logger: logger) {
            try await members(via: $0)
        }
    }

    /// A node's failure domain and weight (DESCRIBE, format 0).
    public func describe(node: DqliteNodeAddress) async throws -> (failureDomain: UInt64, weight: UInt64) {
        try await DqliteConnection.withConnection(to: node, configuration: connectionConfiguration, logger: logger) {
            connection in
            let response = try await connection.call(.describe(format: 0), timeout: configuration.requestTimeout)
            guard case .metadata(let failureDomain, let weight) = response else {
                throw DqliteError(.protocolViolation, "DESCRIBE answered with \(response.type.name)")
            }
            return (failureDomain, weight)
        }
    }

    /// Sets a node's weight (in memory on that node; used by role management).
    public func setWeight(_ weight: UInt64, node: DqliteNodeAddress) async throws {
        try await DqliteConnection.withConnection(to: node, configuration: connectionConfiguration, logger: logger) {
            _ = try await $0.call(.weight(weight), timeout: configuration.requestTimeout)
        }
    }

    /// Downloads a database's files (the database and its WAL) from a node (any node can answer), or from
    /// the leader when `node` is nil.
    public func dump(database: String, from node: DqliteNodeAddress? = nil) async throws -> [DumpFile] {
        let body: @Sendable (DqliteConnection) async throws -> [DumpFile] = { connection in
            let response = try await connection.call(.dump(database: database), timeout: configuration.requestTimeout)
            guard case .files(let files) = response else {
                throw DqliteError(.protocolViolation, "DUMP answered with \(response.type.name)")
            }
            return files
        }
        if let node {
            return try await DqliteConnection.withConnection(
                to: node, configuration: connectionConfiguration, logger: logger, body)
        }
        return try await withLeader(body)
    }

    // MARK: - Changing membership

    /// Adds a node (it joins as spare), then assigns `role` unless it is spare; confirmed when CLUSTER lists
    /// the node with that role. The node should be running: promoting an offline node waits for it.
    public func add(id: UInt64, address: DqliteNodeAddress, role: DqliteNodeRole = .voter) async throws {
        guard id != 0 else { throw DqliteError(.invalidRequest, "node id 0 is not valid") }
        guard address.isDialable else { throw DqliteError(.invalidAddress, "\(address) cannot be a member's address") }
        let members = try await cluster()
        let existing = members.first(where: { $0.id == id })
        if let existing {
            guard existing.address == address else {
                throw DqliteError(.invalidRequest, "node \(id) is already a member with address \(existing.address)")
            }
        } else {
            try await leaderRequest(.add(id: id, address: address.description))
        }
        // A new member is a spare; ASSIGN only changes a role (raft refuses to assign the role a node has).
        let current = existing?.role ?? .spare
        if role != current {
            try await leaderRequest(.assign(id: id, role: role.rawValue))
        }
        try await confirm("node \(id) is a \(role)") { members in
            members.contains { $0.id == id && $0.address == address && $0.role == role }
        }
    }

    /// Changes a node's role; confirmed when CLUSTER shows it. A node that already has the role is left alone.
    public func assign(id: UInt64, role: DqliteNodeRole) async throws {
        if try await cluster().contains(where: { $0.id == id && $0.role == role }) { return }
        try await leaderRequest(.assign(id: id, role: role.rawValue))
        try await confirm("node \(id) is a \(role)") { members in members.contains { $0.id == id && $0.role == role } }
    }

    /// Removes a node; confirmed when CLUSTER no longer lists it.
    public func remove(id: UInt64) async throws {
        try await leaderRequest(.remove(id: id))
        try await confirm("node \(id) was removed") { members in !members.contains { $0.id == id } }
    }

    /// Removes the member with this address.
    public func remove(address: DqliteNodeAddress) async throws {
        guard let member = try await cluster().first(where: { $0.address == address }) else {
            throw DqliteError(.invalidRequest, "no member has address \(address)")
        }
        try await remove(id: member.id)
    }

    /// Transfers leadership to node `id` (nil: any voter raft picks); confirmed when that node (or another
    /// node than the old leader) reports itself as leader. Returns the new leader.
    @discardableResult
    public func transferLeadership(to id: UInt64? = nil) async throws -> DqliteNodeInfo {
        let old = try await leader()
        try await leaderRequest(.transfer(id: id ?? 0))
        discovery.forgetLeader()
        var confirmed: DqliteNodeInfo?
        try await confirmUntilDeadline("leadership moved to \(id.map { "node \($0)" } ?? "another voter")") {
            guard let now = try? await leader() else { return false }
            confirmed = now
            return id.map { now.id == $0 } ?? (now.id != old.id)
        }
        guard let confirmed else { throw DqliteError(.notConfirmed, "leadership transfer not confirmed") }
        return confirmed
    }

    // MARK: - Internals

    func members(via connection: DqliteConnection) async throws -> [DqliteNodeInfo] {
        let response = try await connection.call(.cluster(format: 1), timeout: configuration.requestTimeout)
        guard case .servers(let nodes) = response else {
            throw DqliteError(.protocolViolation, "CLUSTER answered with \(response.type.name)")
        }
        return try nodes.map { node in
            guard let info = DqliteNodeInfo(validating: node) else {
                throw DqliteError(
                    .protocolViolation,
                    "CLUSTER lists an invalid member: id \(node.id), address \"\(NodeAddressSyntax.printable(node.address))\"",
                    node: connection.address.description)
            }
            return info
        }
    }

    func withLeader<Result>(_ body: (DqliteConnection) async throws -> Result) async throws -> Result {
        let connection = try await discovery.connectToLeader(logger: logger)
        do {
            let result = try await body(connection)
            await connection.close()
            return result
        } catch {
            await connection.close()
            throw error
        }
    }

    /// Sends a membership request to the leader: re-sent after "not leader" (it did not run), retried with
    /// backoff while another configuration change is in progress, until the confirmation deadline.
    func leaderRequest(_ request: Request) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + configuration.confirmationTimeout
        var attempt = 0
        while true {
            do {
                _ = try await withLeader { try await $0.call(request, timeout: configuration.requestTimeout) }
                return
            } catch let error as DqliteError where error.code == .server && clock.now < deadline {
                switch error.resultCode {
                case .SQLITE_IOERR_NOT_LEADER?, .SQLITE_IOERR_NOT_LEADER_LEGACY?:
                    discovery.forgetLeader()
                case .SQLITE_BUSY?:
                    break
                default:
                    throw error
                }
                logger.debug(
                    "dqlite membership request retried",
                    metadata: ["request": "\(request.type.name)", "error": "\(error)"])
            }
            attempt += 1
            try await Task.sleep(for: .milliseconds(min(50 << min(attempt, 5), 1000)))
        }
    }

    func confirm(_ what: String, _ predicate: @escaping @Sendable ([DqliteNodeInfo]) -> Bool) async throws {
        try await confirmUntilDeadline(what) {
            guard let members = try? await cluster() else { return false }
            return predicate(members)
        }
    }

    func confirmUntilDeadline(_ what: String, _ check: () async -> Bool) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + configuration.confirmationTimeout
        while true {
            if await check() { return }
            guard clock.now < deadline else {
                throw DqliteError(.notConfirmed, "not confirmed within \(configuration.confirmationTimeout): \(what)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}
