/// A node's role in a dqlite cluster, as CLUSTER answers and ASSIGN requests carry it: the one definition
/// the client (`DqliteNodeRole`), the shell and the embedded node use.
public enum NodeRole: UInt64, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// Replicates and votes.
    case voter = 0
    /// Replicates but does not vote.
    case standby = 1
    /// Neither replicates nor votes (what ADD creates).
    case spare = 2

    /// Parses `voter`, `standby` (or `stand-by`) and `spare`, case-insensitively.
    public init?(name: String) {
        switch name.lowercased() {
        case "voter": self = .voter
        case "standby", "stand-by": self = .standby
        case "spare": self = .spare
        default: return nil
        }
    }

    /// `voter`, `standby` or `spare`: the names ``init(name:)`` parses.
    public var description: String {
        switch self {
        case .voter: return "voter"
        case .standby: return "standby"
        case .spare: return "spare"
        }
    }
}
