import Dqlite
import DqliteWire

/// How the harness forms a cluster and finds its leader, over the real client's connections
/// (``Dqlite/DqliteConnection``: one short connection per step, every request with its deadline), with
/// its own retry loop until a deadline.
///
/// It deliberately does not use the client's leader discovery or ``Dqlite/DqliteClusterAdmin``: tests of
/// those use this as the independent oracle for who leads and who is a member.
enum ClusterFormation {

    /// The leader, found by asking `addresses` (LEADER) in turn and confirming the answer with the named
    /// leader itself (a follower may still name a leader that has just stopped). Nil if no confirmed
    /// leader is found.
    static func leader(among addresses: [String]) async -> (id: UInt64, address: String)? {
        for address in addresses {
            guard let seen = try? await leaderAsSeen(by: address), seen.id != 0, !seen.address.isEmpty else {
                continue
            }
            if seen.address == address { return seen }
            if let confirmed = try? await leaderAsSeen(by: seen.address), confirmed == seen { return seen }
        }
        return nil
    }

    /// The LEADER answer of one node: `(0, "")` when it knows no leader.
    static func leaderAsSeen(by address: String) async throws -> (id: UInt64, address: String) {
        let response = try await request(.leader, to: address, timeout: .seconds(2))
        guard case .server(let id, let leaderAddress) = response else {
            throw LocalClusterError(.protocolViolation, "LEADER to \(address) answered \(response)")
        }
        return (id, leaderAddress)
    }

    /// CLUSTER(format 1) from `address`.
    static func members(at address: String) async throws -> [NodeInfo] {
        let response = try await request(.cluster(format: 1), to: address, timeout: .seconds(5))
        guard case .servers(let nodes) = response else {
            throw LocalClusterError(.protocolViolation, "CLUSTER to \(address) answered \(response)")
        }
        return nodes
    }

    /// Makes node `id` at `address` a voter: finds the leader among `via`, skips the ADD if CLUSTER already
    /// lists the node, sends ADD(id, address) and ASSIGN(id, voter). Retries every failure (notably FAILURE
    /// 5, "a configuration change is already in progress", and a leader change) with backoff until
    /// `deadline`.
    static func join(id: UInt64, address: String, via: [String], deadline: ContinuousClock.Instant) async throws {
        var backoff = Duration.milliseconds(25)
        var lastProblem = "no attempt made"
        while true {
            try Task.checkCancellation()
            do {
                if try await joinAttempt(id: id, address: address, via: via) { return }
                lastProblem = "the node is not a voter yet"
            } catch {
                lastProblem = "\(error)"
            }
            guard ContinuousClock.now.advanced(by: backoff) < deadline else {
                throw LocalClusterError(
                    .join, "node \(id) (\(address)) did not join as a voter in time: \(lastProblem)")
            }
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, .milliseconds(500))
        }
    }

    /// One attempt; true when the node is a voter.
    private static func joinAttempt(id: UInt64, address: String, via: [String]) async throws -> Bool {
        guard let leader = await leader(among: via) else {
            throw LocalClusterError(.noLeader, "no leader known to \(via)")
        }
        return try await withConnection(to: leader.address) { connection in
            let cluster = try await connection.call(.cluster(format: 1), timeout: .seconds(5))
            guard case .servers(let nodes) = cluster else {
                throw LocalClusterError(.protocolViolation, "CLUSTER to leader \(leader.address) answered \(cluster)")
            }
            if let member = nodes.first(where: { $0.id == id }) {
                if member.nodeRole == .voter { return true }
            } else {
                try expectEmpty(
                    try await connection.call(.add(id: id, address: address), timeout: .seconds(10)),
                    "ADD(\(id), \(address)) via \(leader.address)")
            }
            // ASSIGN voter returns once the node has caught up with the leader's log.
            try expectEmpty(
                try await connection.call(.assign(id: id, role: NodeRole.voter.rawValue), timeout: .seconds(20)),
                "ASSIGN(\(id), voter) via \(leader.address)")
            return true
        }
    }

    /// One request on a connection of its own (a FAILURE answer throws the client's server error).
    private static func request(_ request: Request, to address: String, timeout: Duration) async throws -> Response {
        try await withConnection(to: address) { try await $0.call(request, timeout: timeout) }
    }

    /// A connection to `address` (connect deadline 2 s) for `body`, closed whatever happens.
    private static func withConnection<Result>(
        to address: String, _ body: (DqliteConnection) async throws -> Result
    ) async throws -> Result {
        var configuration = DqliteConnection.Configuration()
        configuration.connectTimeout = .seconds(2)
        return try await DqliteConnection.withConnection(
            to: try DqliteNodeAddress(address), configuration: configuration, body)
    }

    private static func expectEmpty(_ response: Response, _ what: String) throws {
        guard case .empty = response else {
            throw LocalClusterError(.protocolViolation, "\(what): unexpected \(response)")
        }
    }

    /// Waits until the leader's CLUSTER(format 1) lists exactly `ids`, all voters, and every node in
    /// `addresses` reports that leader.
    static func waitForVoters(ids: [UInt64], addresses: [String], deadline: ContinuousClock.Instant) async throws {
        var lastSeen = "nothing yet"
        let expected = Set(ids)
        while true {
            try Task.checkCancellation()
            do {
                if let leader = await leader(among: addresses) {
                    let nodes = try await members(at: leader.address)
                    lastSeen =
                        "leader \(leader.id) at \(leader.address), members "
                        + nodes.map { "\($0.id)@\($0.address) role \($0.role.map(String.init) ?? "?")" }
                        .joined(separator: ", ")
                    let voters = Set(nodes.filter { $0.nodeRole == .voter }.map(\.id))
                    if voters == expected && nodes.count == expected.count {
                        var agreed = true
                        for address in addresses {
                            let seen = try await leaderAsSeen(by: address)
                            if seen.id != leader.id {
                                agreed = false
                                lastSeen += "; \(address) sees leader \(seen.id)"
                                break
                            }
                        }
                        if agreed { return }
                    }
                } else {
                    lastSeen = "no node reports a leader"
                }
            } catch {
                lastSeen = "\(error)"
            }
            guard ContinuousClock.now.advanced(by: .milliseconds(50)) < deadline else {
                throw LocalClusterError(
                    .formationTimeout,
                    "nodes \(ids.map(String.init).joined(separator: ",")) are not all voters "
                        + "with one leader in time; last seen: \(lastSeen)")
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }
}
