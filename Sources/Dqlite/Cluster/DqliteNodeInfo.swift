import DqliteWire

/// A node's role in the cluster (voter, standby, spare): DqliteWire's `NodeRole`.
public typealias DqliteNodeRole = NodeRole

/// A cluster member: id, address and role.
public struct DqliteNodeInfo: Hashable, Sendable, CustomStringConvertible {
    /// Raft node id (never 0).
    public var id: UInt64
    /// The address the node advertises.
    public var address: DqliteNodeAddress
    /// Its role.
    public var role: DqliteNodeRole

    /// Creates a member entry.
    public init(id: UInt64, address: DqliteNodeAddress, role: DqliteNodeRole) {
        self.id = id
        self.address = address
        self.role = role
    }

    public var description: String { "\(id)|\(address)|\(role)" }

    /// Validates a SERVERS entry from a server: a non-zero id, a dialable address, a known role. Returns
    /// nil for anything else (such entries are never followed or persisted).
    init?(validating node: NodeInfo) {
        guard node.id != 0, let address = try? DqliteNodeAddress(node.address), address.isDialable,
            let role = DqliteNodeRole(rawValue: node.role ?? DqliteNodeRole.voter.rawValue)
        else { return nil }
        self.init(id: node.id, address: address, role: role)
    }
}
