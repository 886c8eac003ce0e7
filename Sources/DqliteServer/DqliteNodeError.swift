/// An error from an embedded ``DqliteNode``: invalid input, a lifecycle misuse, or a failed libdqlite call.
///
/// Every non-zero libdqlite return code becomes a `DqliteNodeError` with ``code`` ``Code/libdqlite``, the
/// ``operation`` (the C function), the ``returnCode``, its ``returnCodeName`` where known and the node's
/// `dqlite_node_errmsg`, which libdqlite 1.11.1 often leaves empty; ``message`` then says what is known.
///
/// ```swift
/// do { try await node.start() } catch let error as DqliteNodeError where error.code == .libdqlite {
///     print(error.operation, error.returnCodeName ?? "?", error.message)
/// }
/// ```
public struct DqliteNodeError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of failure this is. A struct with static members (not an enum), so codes can be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's name, e.g. `"libdqlite"`.
        public let name: String

        private init(_ name: String) { self.name = name }

        /// A libdqlite call returned a non-zero code: see ``DqliteNodeError/operation``,
        /// ``DqliteNodeError/returnCode`` and ``DqliteNodeError/returnCodeName``.
        public static let libdqlite = Code("libdqlite")
        /// The node id is 0 (ids start at 1; id 1 bootstraps a new cluster).
        public static let invalidNodeID = Code("invalidNodeID")
        /// An address (advertised or bind) is malformed or not supported by libdqlite.
        public static let invalidAddress = Code("invalidAddress")
        /// A host name could not be resolved to an IPv4 address (`getaddrinfo` failed).
        public static let addressResolutionFailed = Code("addressResolutionFailed")
        /// An ``DqliteNode/Options`` value is out of range.
        public static let invalidOption = Code("invalidOption")
        /// The data directory could not be created or is not a directory.
        public static let dataDirectory = Code("dataDirectory")
        /// Another ``DqliteNode`` (in this or another process) uses the data directory.
        public static let dataDirectoryInUse = Code("dataDirectoryInUse")
        /// ``DqliteNode/start()`` on a node that is already starting or running.
        public static let alreadyStarted = Code("alreadyStarted")
        /// ``DqliteNode/stop()`` or ``DqliteNode/start()`` on a node that is stopped (a stopped node is
        /// final; create a new ``DqliteNode`` with the same id, address and data directory to restart it).
        public static let alreadyStopped = Code("alreadyStopped")
        /// ``DqliteNode/stop()`` while a ``DqliteNode/start()`` or another stop is still in progress.
        public static let operationInProgress = Code("operationInProgress")
        /// The thread pool that runs the blocking libdqlite calls refused the work (it was shut down).
        public static let threadPoolUnavailable = Code("threadPoolUnavailable")

        public var description: String { name }
    }

    /// The call that failed. A struct with static members, so operations can be added.
    public struct Operation: Hashable, Sendable, CustomStringConvertible {
        /// The function's name: the libdqlite C function, or the system call for non-libdqlite steps.
        public let name: String

        private init(_ name: String) { self.name = name }

        /// `dqlite_node_create`.
        public static let create = Operation("dqlite_node_create")
        /// `dqlite_node_set_bind_address`.
        public static let setBindAddress = Operation("dqlite_node_set_bind_address")
        /// `dqlite_node_set_network_latency_ms`.
        public static let setNetworkLatency = Operation("dqlite_node_set_network_latency_ms")
        /// `dqlite_node_set_snapshot_params`.
        public static let setSnapshotParameters = Operation("dqlite_node_set_snapshot_params")
        /// `dqlite_node_set_failure_domain`.
        public static let setFailureDomain = Operation("dqlite_node_set_failure_domain")
        /// `dqlite_node_set_connect_func` (the raft connect function with TCP_NODELAY).
        public static let setConnectFunction = Operation("dqlite_node_set_connect_func")
        /// `dqlite_node_start`.
        public static let start = Operation("dqlite_node_start")
        /// `dqlite_node_stop`.
        public static let stop = Operation("dqlite_node_stop")
        /// `getaddrinfo`, resolving a host name.
        public static let resolveAddress = Operation("getaddrinfo")
        /// `mkdir`/`stat`/`realpath` on the data directory.
        public static let prepareDataDirectory = Operation("mkdir")
        /// `open`/`flock` of the data directory's lock file.
        public static let lockDataDirectory = Operation("flock")

        public var description: String { name }
    }

    /// What kind of failure this is.
    public var code: Code
    /// The failed call, if the error comes from one.
    public var operation: Operation?
    /// The libdqlite return code (for ``Code/libdqlite``).
    public var returnCode: Int32?
    /// The system error number (`errno`), for failed system calls.
    public var systemErrorNumber: Int32?
    /// The node's `dqlite_node_errmsg` for ``Code/libdqlite`` when libdqlite set one, otherwise a description.
    public var message: String
    /// The node the error is about, when known.
    public var nodeID: UInt64?

    /// Creates an error.
    public init(
        _ code: Code, operation: Operation? = nil, returnCode: Int32? = nil, systemErrorNumber: Int32? = nil,
        message: String, nodeID: UInt64? = nil
    ) {
        self.code = code
        self.operation = operation
        self.returnCode = returnCode
        self.systemErrorNumber = systemErrorNumber
        self.message = message
        self.nodeID = nodeID
    }

    /// The symbolic name of ``returnCode``, e.g. `"DQLITE_MISUSE"`, or nil when unknown.
    public var returnCodeName: String? { returnCode.flatMap(Self.name(ofReturnCode:)) }

    /// The symbolic name of a libdqlite return code.
    ///
    /// dqlite.h (1.11.1) defines `DQLITE_ERROR` (1), `DQLITE_MISUSE` (2) and `DQLITE_NOMEM` (3). Some calls,
    /// `dqlite_node_create` above all, pass raft's codes through unchanged (a missing data directory gives 19,
    /// `RAFT_NOTFOUND`; a data directory that is a file gives 20, `RAFT_INVALID`), so 4–24 are named after
    /// raft.h. Codes 1–3 are reported with their dqlite names, although raft uses them too.
    public static func name(ofReturnCode code: Int32) -> String? {
        switch code {
        case 1: return "DQLITE_ERROR"
        case 2: return "DQLITE_MISUSE"
        case 3: return "DQLITE_NOMEM"
        case 4...24: return raftCodeNames[Int(code) &- 4]
        default: return nil
        }
    }

    private static let raftCodeNames = [
        "RAFT_DUPLICATEADDRESS", "RAFT_BADROLE", "RAFT_MALFORMED", "RAFT_NOTLEADER", "RAFT_LEADERSHIPLOST",
        "RAFT_SHUTDOWN", "RAFT_CANTBOOTSTRAP", "RAFT_CANTCHANGE", "RAFT_CORRUPT", "RAFT_CANCELED",
        "RAFT_NAMETOOLONG", "RAFT_TOOBIG", "RAFT_NOCONNECTION", "RAFT_BUSY", "RAFT_IOERR", "RAFT_NOTFOUND",
        "RAFT_INVALID", "RAFT_UNAUTHORIZED", "RAFT_NOSPACE", "RAFT_TOOMANY", "RAFT_RETRY",
    ]

    public var description: String {
        var text = "DqliteNodeError.\(code)"
        if let nodeID { text += " (node \(nodeID))" }
        if let operation { text += " in \(operation)" }
        if let returnCode {
            text += ": rc=\(returnCode)"
            if let name = returnCodeName { text += " \(name)" }
        }
        if let systemErrorNumber { text += " errno=\(systemErrorNumber)" }
        text += ": \(message)"
        return text
    }
}
