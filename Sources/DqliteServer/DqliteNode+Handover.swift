import Dqlite

extension DqliteNode {
    /// Prepares this node to stop without disturbing the cluster: if it is the leader and other voters
    /// exist, leadership is transferred to one of them and the transfer is confirmed. Call it before
    /// ``stop()`` on a graceful shutdown (SIGTERM); a node that is not the leader has nothing to hand over.
    ///
    /// The node keeps its role (a restarted node rejoins as it was).
    ///
    /// - Returns: the new leader's id when leadership moved, nil when there was nothing to do.
    @discardableResult
    public func handover(timeout: Duration = .seconds(10)) async throws -> UInt64? {
        let own = try DqliteNodeAddress(address)
        let configuration = DqliteClusterAdmin.Configuration(
            discovery: .init(timeout: timeout), requestTimeout: timeout, confirmationTimeout: timeout)
        let admin = DqliteClusterAdmin(seeds: [own], configuration: configuration)
        let leader = try await admin.leader()
        guard leader.id == id else { return nil }
        let voters = try await admin.cluster().filter { $0.role == .voter && $0.id != id }
        guard !voters.isEmpty else { return nil }
        return try await admin.transferLeadership(to: nil).id
    }
}
