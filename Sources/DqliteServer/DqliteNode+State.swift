extension DqliteNode {
    /// Where a node is in its life. The only path is created → starting → running → stopping → stopped;
    /// a failed start goes straight to stopped, and ``DqliteNode/stop()`` of a node that was never started
    /// releases it (created → stopped).
    public enum State: Hashable, Sendable, CustomStringConvertible {
        /// Created and configured (`dqlite_node_create` succeeded); not listening yet.
        case created
        /// ``DqliteNode/start()`` is running.
        case starting
        /// Listening and taking part in the cluster.
        case running
        /// ``DqliteNode/stop()`` is running.
        case stopping
        /// Stopped and destroyed; final. The data directory keeps the node's state for a new `DqliteNode`.
        case stopped

        public var description: String {
            switch self {
            case .created: return "created"
            case .starting: return "starting"
            case .running: return "running"
            case .stopping: return "stopping"
            case .stopped: return "stopped"
            }
        }
    }
}
