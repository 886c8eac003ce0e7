import NIOConcurrencyHelpers

/// Where a client keeps the cluster's members between leader searches: the seed list, refreshed from the
/// leader's CLUSTER answer on every (re)connect.
public protocol DqliteNodeStore: Sendable {
    /// The known members.
    func nodes() async throws -> [DqliteNodeInfo]
    /// Replaces the known members (only validated entries are ever passed).
    func setNodes(_ nodes: [DqliteNodeInfo]) async throws
}

/// A node store in memory.
public final class InMemoryNodeStore: DqliteNodeStore {
    private let storage: NIOLockedValueBox<[DqliteNodeInfo]>

    /// Creates a store holding `nodes`.
    public init(_ nodes: [DqliteNodeInfo] = []) {
        storage = NIOLockedValueBox(nodes)
    }

    /// Creates a store of seed addresses (assumed voters until a CLUSTER answer says otherwise; ids unknown).
    public convenience init(seeds: [DqliteNodeAddress]) {
        self.init(
            seeds.enumerated().map { DqliteNodeInfo(id: UInt64($0.offset + 1), address: $0.element, role: .voter) })
    }

    public func nodes() async throws -> [DqliteNodeInfo] { storage.withLockedValue { $0 } }

    public func setNodes(_ nodes: [DqliteNodeInfo]) async throws { storage.withLockedValue { $0 = nodes } }
}

extension Array where Element == DqliteNodeInfo {
    /// Members first by role (voters, stand-bys, spares), then by address, without duplicate addresses.
    func orderedForProbing() -> [DqliteNodeInfo] {
        var seen = Set<DqliteNodeAddress>()
        return sorted { ($0.role.rawValue, $0.address.description) < ($1.role.rawValue, $1.address.description) }
            .filter { seen.insert($0.address).inserted }
    }

    /// These members plus any seed address they do not list (seeds count as voters).
    func merged(withSeeds seeds: [DqliteNodeAddress]) -> [DqliteNodeInfo] {
        let known = Set(map(\.address))
        return self + seeds.filter { !known.contains($0) }.map { DqliteNodeInfo(id: 0, address: $0, role: .voter) }
    }
}
