/// Which dqlite server a ``LocalCluster`` runs.
public enum DqliteGeneration: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// In-process ``DqliteServer/DqliteNode``s on the host's libdqlite (Debian 12: 1.11.1).
    case v1_11
    /// Child processes started through `scripts/dqlite118.sh`: real libdqlite 1.18.7 nodes (Debian forky's
    /// `libdqlite0`) from a cached chroot. Needs root; the first use builds the chroot with `mmdebstrap`
    /// (about a minute, network access to deb.debian.org). Fails with
    /// ``LocalClusterError/Code/generationUnavailable`` when it cannot run; never skipped silently.
    case v1_18

    public var description: String {
        switch self {
        case .v1_11: return "dqlite 1.11 (in-process)"
        case .v1_18: return "dqlite 1.18 (dqlite118.sh)"
        }
    }
}
