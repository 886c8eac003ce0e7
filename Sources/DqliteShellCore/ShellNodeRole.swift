/// A node role named in `.add` and `.assign`. Raw values are dqlite's role codes, so the client library's
/// role type converts with `init(rawValue:)`.
public enum ShellNodeRole: UInt64, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// Replicates and votes.
    case voter = 0
    /// Replicates but does not vote.
    case standby = 1
    /// Neither replicates nor votes.
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

    public var description: String {
        switch self {
        case .voter: return "voter"
        case .standby: return "standby"
        case .spare: return "spare"
        }
    }
}
