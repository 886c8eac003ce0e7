extension DqliteNode {
    /// Settings applied to the node before it starts. Every `nil` keeps libdqlite's default.
    ///
    /// ```swift
    /// var options = DqliteNode.Options()
    /// options.networkLatency = .milliseconds(20)   // fast elections, for tests on loopback
    /// options.bindAddress = "0.0.0.0:9001"         // listen everywhere, advertise the node's address
    /// ```
    ///
    /// **Weight** cannot be set here: libdqlite 1.11.1 has no `dqlite_node_set_weight`. It is applied
    /// after start by the client layer, with a WEIGHT request to the node.
    public struct Options: Hashable, Sendable {
        /// The address to listen on, when it differs from the advertised address (for example
        /// `"0.0.0.0:9001"`, or a proxy's). Same rules as the advertised address: `host:port` with a numeric
        /// IPv4 or resolvable host (resolved to IPv4 before libdqlite sees it), or an abstract Unix socket
        /// `@name`; `"@"` alone makes libdqlite pick a free abstract name (see ``DqliteNode/boundAddress``).
        /// Default: the advertised address.
        public var bindAddress: String?

        /// The average one-way network latency between nodes. raft derives its timeouts from it:
        /// heartbeat = 1.5 × latency, election timeout = 15 × latency. Rounded to whole milliseconds; 1 ms to
        /// 1 hour.
        /// Default (nil): heartbeat 500 ms and election timeout 3 s, so failover takes 3–6 s; 20 ms gives
        /// about 0.3 s elections on loopback.
        public var networkLatency: Duration?

        /// How many raft log entries trigger a snapshot (lower means more frequent snapshots). Must be
        /// at least 1. Default: 1024.
        public var snapshotThreshold: UInt32?

        /// How many raft log entries are kept after a snapshot. libdqlite 1.11.1 requires it to be larger
        /// than the threshold. Default: 8192.
        public var snapshotTrailing: UInt32?

        /// A tag reported by the DESCRIBE request, for placing nodes in failure domains. Default: 0.
        public var failureDomain: UInt64?

        /// Creates options; every parameter defaults to libdqlite's own default.
        public init(
            bindAddress: String? = nil, networkLatency: Duration? = nil, snapshotThreshold: UInt32? = nil,
            snapshotTrailing: UInt32? = nil, failureDomain: UInt64? = nil
        ) {
            self.bindAddress = bindAddress
            self.networkLatency = networkLatency
            self.snapshotThreshold = snapshotThreshold
            self.snapshotTrailing = snapshotTrailing
            self.failureDomain = failureDomain
        }

        /// libdqlite's default snapshot threshold.
        static let defaultSnapshotThreshold: UInt32 = 1024
        /// libdqlite's default snapshot trailing.
        static let defaultSnapshotTrailing: UInt32 = 8192
        /// The largest latency libdqlite accepts: one hour.
        static let maximumNetworkLatencyMilliseconds: Int64 = 3_600_000

        /// ``networkLatency`` in whole milliseconds, checked against libdqlite's range.
        func networkLatencyMilliseconds(nodeID: UInt64) throws(DqliteNodeError) -> UInt32? {
            guard let latency = networkLatency else { return nil }
            let (seconds, attoseconds) = latency.components
            let limit = Self.maximumNetworkLatencyMilliseconds
            let milliseconds: Int64
            if seconds < 0 || attoseconds < 0 {
                milliseconds = -1
            } else if seconds > limit / 1000 {
                milliseconds = limit &+ 1
            } else {
                // Rounded to the nearest millisecond (`.seconds(0.02)` is not exactly 20 ms as a Double).
                milliseconds = seconds &* 1000 &+ (attoseconds &+ 500_000_000_000_000) / 1_000_000_000_000_000
            }
            guard milliseconds >= 1, milliseconds <= limit else {
                throw DqliteNodeError(
                    .invalidOption, message: "networkLatency \(latency) must be from 1 ms to 1 hour",
                    nodeID: nodeID)
            }
            return UInt32(truncatingIfNeeded: milliseconds)
        }

        /// The snapshot pair to set, or nil to keep both defaults; a missing half takes its default.
        func snapshotParameters(nodeID: UInt64) throws(DqliteNodeError) -> (threshold: UInt32, trailing: UInt32)? {
            guard snapshotThreshold != nil || snapshotTrailing != nil else { return nil }
            let threshold = snapshotThreshold ?? Self.defaultSnapshotThreshold
            let trailing = snapshotTrailing ?? Self.defaultSnapshotTrailing
            guard threshold >= 1 else {
                throw DqliteNodeError(.invalidOption, message: "snapshotThreshold must be at least 1", nodeID: nodeID)
            }
            return (threshold, trailing)
        }
    }
}
