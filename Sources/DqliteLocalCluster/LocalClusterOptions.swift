/// Settings for ``withLocalCluster(nodes:generation:options:isolation:_:)``.
public struct LocalClusterOptions: Hashable, Sendable {
    /// Passed to every node (in-process: ``DqliteServer/DqliteNode/Options/networkLatency``; 1.18:
    /// `--network-latency-ms`). The default, 20 ms, makes elections take about 0.3 s on loopback instead
    /// of 3–6 s.
    public var networkLatency: Duration
    /// How long starting the nodes, joining them and waiting for every node to be a voter may take in all
    /// (building the 1.18 chroot on first use is not counted).
    public var formationTimeout: Duration
    /// Where the cluster's temporary directory (one data directory per node) is created.
    public var parentDirectory: String
    /// Keep the temporary directory after teardown (for debugging); it is removed by default.
    public var keepDataDirectories: Bool

    /// Creates options.
    public init(
        networkLatency: Duration = .milliseconds(20), formationTimeout: Duration = .seconds(60),
        parentDirectory: String = "/tmp", keepDataDirectories: Bool = false
    ) {
        self.networkLatency = networkLatency
        self.formationTimeout = formationTimeout
        self.parentDirectory = parentDirectory
        self.keepDataDirectories = keepDataDirectories
    }

    /// ``networkLatency`` in whole milliseconds (at least 1).
    var networkLatencyMilliseconds: Int {
        let (seconds, attoseconds) = networkLatency.components
        return max(1, Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000))
    }
}
