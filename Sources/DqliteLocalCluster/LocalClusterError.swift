/// An error from the local-cluster harness (``withLocalCluster(nodes:generation:options:isolation:_:)``,
/// ``LocalCluster``, ``LoopbackPorts``).
public struct LocalClusterError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong. A struct with static members, so codes can be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's name.
        public let name: String

        private init(_ name: String) { self.name = name }

        /// No free loopback port could be reserved.
        public static let portAllocation = Code("portAllocation")
        /// A node did not start (in-process: see the underlying ``DqliteServer/DqliteNodeError`` text).
        public static let nodeStart = Code("nodeStart")
        /// A node did not stop cleanly.
        public static let nodeStop = Code("nodeStop")
        /// A node could not be added to the cluster (ADD + ASSIGN) before the deadline.
        public static let join = Code("join")
        /// The cluster did not reach the expected shape (every node a voter, a known leader) in time.
        public static let formationTimeout = Code("formationTimeout")
        /// No node reported a leader in time.
        public static let noLeader = Code("noLeader")
        /// The requested server generation cannot run here (for example dqlite 1.18: not root, script or
        /// chroot missing, `mmdebstrap` failed). Never skipped silently.
        public static let generationUnavailable = Code("generationUnavailable")
        /// `scripts/dqlite118.sh` failed.
        public static let script = Code("script")
        /// The node number is not part of the cluster, or the node is in the wrong state for the call.
        public static let invalidNode = Code("invalidNode")
        /// A blocking call could not run (the harness's thread pool is shut down).
        public static let io = Code("io")
        /// A node answered a formation step with an unexpected response.
        public static let protocolViolation = Code("protocolViolation")
        /// Creating or removing the cluster's temporary directories failed.
        public static let fileSystem = Code("fileSystem")

        public var description: String { name }
    }

    /// What went wrong.
    public var code: Code
    /// Details, including the underlying error's text.
    public var message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "LocalClusterError.\(code): \(message)" }
}
