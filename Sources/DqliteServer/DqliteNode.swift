import Logging
import Synchronization

/// One embedded dqlite node (libdqlite, in this process), owning the node's whole life.
///
/// ```swift
/// let node = try await DqliteNode(id: 1, address: "127.0.0.1:9001", dataDirectory: "/var/lib/app/dqlite")
/// try await node.start()      // node 1 bootstraps a new single-voter cluster on an empty directory
/// …                           // clients connect to node.address
/// try await node.stop()       // stops and destroys it; the data directory keeps its state
/// ```
///
/// Prefer ``withRunningNode(id:address:dataDirectory:options:logger:isolation:_:)``, which always stops
/// the node, also when its body throws.
///
/// - **Addresses** are checked before libdqlite sees them (it aborts or answers `DQLITE_MISUSE` with no
///   message on many bad inputs): `host:port` with a numeric IPv4 address or a host name, port 1–65535.
///   Names are resolved to a numeric IPv4 address with `getaddrinfo` on a blocking thread; `@name`
///   abstract Unix sockets pass through. IPv6 is refused: libdqlite 1.11.1 handles IPv4 only.
/// - **The data directory** is created with its parents if missing (mode 0700), and locked with an
///   exclusive `flock` on `.swift-dqlite-node.lock` inside it from `init` until the node is stopped:
///   libdqlite 1.11.1 does not lock it, and two nodes on one directory corrupt each other's raft log.
/// - **Blocking calls** (`dqlite_node_create`, `_start`, `_stop`, name resolution, directory creation) run
///   on `NIOThreadPool.singleton`, never on Swift's cooperative pool.
/// - **Lifecycle:** created → running → stopped, once. ``start()`` twice throws
///   ``DqliteNodeError/Code/alreadyStarted``; ``stop()`` twice throws ``DqliteNodeError/Code/alreadyStopped``;
///   a stopped node cannot be started again (create a new `DqliteNode` on the same data directory).
/// - **Weight** cannot be set through libdqlite 1.11.1's C API; the client layer sets it with a WEIGHT
///   request after start.
///
/// `deinit` of a node that is still running stops and destroys it *synchronously*, blocking the thread
/// that releases the last reference (possibly one of the cooperative pool's). That is a last resort
/// against leaking a running node and its listening socket; always call ``stop()`` (or use
/// ``withRunningNode(id:address:dataDirectory:options:logger:isolation:_:)``).
public final class DqliteNode: Sendable {
    /// The raft node id (at least 1; id 1 bootstraps a new cluster when its data directory is empty).
    public let id: UInt64
    /// The advertised address that libdqlite and the cluster use: numeric `a.b.c.d:port` (names are
    /// resolved) or `@name`.
    public let address: String
    /// The requested listening address, resolved like ``address`` (equal to it unless
    /// ``Options/bindAddress`` was set).
    public let bindAddress: String
    /// The data directory: absolute, symlinks resolved.
    public let dataDirectory: String
    /// The options the node was created with.
    public let options: Options

    private let logger: Logger
    private let lifecycle: Mutex<Lifecycle>

    /// The node's state with the resources each state owns.
    private enum Lifecycle {
        case created(NodeHandle, DataDirectoryLock)
        case starting(NodeHandle, DataDirectoryLock)
        case running(NodeHandle, DataDirectoryLock, boundAddress: String)
        case stopping(NodeHandle, DataDirectoryLock)
        case stopped

        var state: State {
            switch self {
            case .created: return .created
            case .starting: return .starting
            case .running: return .running
            case .stopping: return .stopping
            case .stopped: return .stopped
            }
        }
    }

    /// Validates everything, creates the data directory and the libdqlite node (`dqlite_node_create` and
    /// the option setters, which also binds the listening socket); does not start it.
    ///
    /// - Parameters:
    ///   - id: The node id, at least 1. Must stay the same across restarts on this data directory.
    ///   - address: The address other nodes and clients use: `host:port` or `@name`.
    ///   - dataDirectory: Where raft keeps its log and snapshots; created with its parents if missing.
    ///   - options: Bind address, network latency, snapshot parameters, failure domain.
    ///   - logger: Receives debug messages about the lifecycle (default: discards them).
    /// - Throws: ``DqliteNodeError``: invalid id, address or option; resolution or directory failures;
    ///   ``DqliteNodeError/Code/dataDirectoryInUse``; or a libdqlite return code.
    public init(
        id: UInt64, address: String, dataDirectory: String, options: Options = Options(),
        logger: Logger = DqliteNode.discardingLogger
    ) async throws(DqliteNodeError) {
        guard id >= 1 else {
            throw DqliteNodeError(
                .invalidNodeID, message: "node id must be at least 1 (id 1 bootstraps a new cluster)", nodeID: id)
        }
        let advertised = try NodeAddress(parsing: address, role: "address", allowAutomaticAbstract: false, nodeID: id)
        let bind: NodeAddress?
        if let bindText = options.bindAddress {
            bind = try NodeAddress(parsing: bindText, role: "bind address", allowAutomaticAbstract: true, nodeID: id)
        } else {
            bind = nil
        }
        let latency = try options.networkLatencyMilliseconds(nodeID: id)
        let snapshot = try options.snapshotParameters(nodeID: id)

        // Blocking steps run on the pool; waits between lock attempts do not.
        let located = try await BlockingCalls.run(nodeID: id) { () throws(DqliteNodeError) in
            let advertisedText = try Self.resolve(advertised, nodeID: id)
            var bindText = advertisedText
            if let bind { bindText = try Self.resolve(bind, nodeID: id) }
            let directory = try DataDirectory.prepare(dataDirectory, nodeID: id)
            return NodeHandle.Configuration(
                id: id, address: advertisedText, bindAddress: bindText, dataDirectory: directory,
                networkLatencyMilliseconds: latency, snapshotParameters: snapshot,
                failureDomain: options.failureDomain)
        }.get()
        let lock = try await DataDirectory.lock(located.dataDirectory, nodeID: id)
        let handle: NodeHandle
        do {
            handle = try await BlockingCalls.run(nodeID: id) { () throws(DqliteNodeError) in
                try NodeHandle.create(located)
            }.get()
        } catch {
            lock.release()
            throw error
        }
        let prepared = Prepared(handle: handle, lock: lock, configuration: located)

        self.id = id
        self.address = prepared.configuration.address
        self.bindAddress = prepared.configuration.bindAddress
        self.dataDirectory = prepared.configuration.dataDirectory
        self.options = options
        self.logger = logger
        self.lifecycle = Mutex(.created(prepared.handle, prepared.lock))
        logger.debug(
            "dqlite node created",
            metadata: [
                "node.id": "\(id)", "node.address": "\(self.address)", "node.dataDirectory": "\(self.dataDirectory)",
            ])
    }

    /// The result of the blocking part of `init`.
    private struct Prepared: Sendable {
        var handle: NodeHandle
        var lock: DataDirectoryLock
        var configuration: NodeHandle.Configuration
    }

    private static func resolve(_ address: NodeAddress, nodeID: UInt64) throws(DqliteNodeError) -> String {
        switch address {
        case .hostName(let host, let port): return try AddressResolver.resolve(host, port: port, nodeID: nodeID)
        case .ipv4(let host, let port): return "\(host):\(port)"
        case .abstractUnix(let text): return text
        }
    }

    deinit {
        lifecycle.withLock { lifecycle in
            switch lifecycle {
            case .created(let handle, let lock):
                handle.destroy()
                lock.release()
            case .running(let handle, let lock, _):
                // Last resort, documented on the type: blocks this thread until the node has stopped.
                logger.warning(
                    "dqlite node deinitialized while running; stopping it synchronously (call stop() instead)",
                    metadata: ["node.id": "\(id)"])
                try? handle.stopAndDestroy(nodeID: id)
                lock.release()
            case .starting, .stopping, .stopped:
                // starting/stopping cannot happen: start() and stop() keep the node alive while they run.
                break
            }
            lifecycle = .stopped
        }
    }

    /// The node's current state.
    public var state: State { lifecycle.withLock { $0.state } }

    /// True while the node is running.
    public var isRunning: Bool { state == .running }

    /// The address the node actually listens on while it runs (libdqlite's `dqlite_node_get_bind_address`):
    /// the same as ``bindAddress``, except that a bind address of `"@"` shows the abstract name libdqlite
    /// picked. Nil unless running.
    public var boundAddress: String? {
        lifecycle.withLock { lifecycle in
            if case .running(_, _, let bound) = lifecycle { return bound }
            return nil
        }
    }

    /// Starts the node: `dqlite_node_start`, on a blocking thread. Returns once the node accepts
    /// connections. A node with id 1 and an empty data directory bootstraps a single-voter cluster; other
    /// nodes wait to be added (ADD and ASSIGN requests to the leader).
    ///
    /// - Throws: ``DqliteNodeError/Code/alreadyStarted`` if starting or running;
    ///   ``DqliteNodeError/Code/alreadyStopped`` if stopped; a libdqlite error (the node is then destroyed
    ///   and stopped).
    public func start() async throws(DqliteNodeError) {
        let id = self.id
        let (handle, lock) = try lifecycle.withLock { lifecycle throws(DqliteNodeError) in
            switch lifecycle {
            case .created(let handle, let lock):
                lifecycle = .starting(handle, lock)
                return (handle, lock)
            case .starting, .running:
                throw DqliteNodeError(.alreadyStarted, message: "node \(id) is already \(lifecycle.state)", nodeID: id)
            case .stopping, .stopped:
                throw DqliteNodeError(
                    .alreadyStopped,
                    message: "node \(id) is \(lifecycle.state); a stopped node cannot be started again "
                        + "(create a new DqliteNode on the same data directory)",
                    nodeID: id)
            }
        }
        let clock = ContinuousClock()
        let began = clock.now
        let requested = bindAddress
        let outcome: Result<String, DqliteNodeError>
        do {
            outcome = try await BlockingCalls.run(nodeID: id) { () throws(DqliteNodeError) in
                try handle.start(nodeID: id, requestedBindAddress: requested)
            }
        } catch {
            // The pool refused the work: nothing happened, the node is still created.
            lifecycle.withLock { $0 = .created(handle, lock) }
            throw error
        }
        switch outcome {
        case .success(let bound):
            lifecycle.withLock { $0 = .running(handle, lock, boundAddress: bound) }
            logger.debug(
                "dqlite node started",
                metadata: ["node.id": "\(id)", "node.boundAddress": "\(bound)", "duration": "\(clock.now - began)"])
        case .failure(let error):
            // NodeHandle.start destroyed the node.
            lock.release()
            lifecycle.withLock { $0 = .stopped }
            throw error
        }
    }

    /// Stops and destroys the node (`dqlite_node_stop` + `dqlite_node_destroy`, on a blocking thread):
    /// open client connections are closed once their in-flight requests complete. Also releases a node that
    /// was never started. The data directory and its lock file remain; the lock itself is released.
    ///
    /// - Throws: ``DqliteNodeError/Code/alreadyStopped`` if stopped;
    ///   ``DqliteNodeError/Code/operationInProgress`` while starting or stopping; a libdqlite error from
    ///   `dqlite_node_stop` (the node is destroyed and stopped anyway).
    public func stop() async throws(DqliteNodeError) {
        enum Action {
            case releaseUnstarted(NodeHandle, DataDirectoryLock)
            case stop(NodeHandle, DataDirectoryLock, boundAddress: String)
        }
        let id = self.id
        let action = try lifecycle.withLock { lifecycle throws(DqliteNodeError) -> Action in
            switch lifecycle {
            case .created(let handle, let lock):
                lifecycle = .stopping(handle, lock)
                return .releaseUnstarted(handle, lock)
            case .running(let handle, let lock, let bound):
                lifecycle = .stopping(handle, lock)
                return .stop(handle, lock, boundAddress: bound)
            case .starting, .stopping:
                throw DqliteNodeError(
                    .operationInProgress, message: "node \(id) is \(lifecycle.state); wait for it to finish",
                    nodeID: id)
            case .stopped:
                throw DqliteNodeError(.alreadyStopped, message: "node \(id) is already stopped", nodeID: id)
            }
        }
        let clock = ContinuousClock()
        let began = clock.now
        switch action {
        case .releaseUnstarted(let handle, let lock):
            // dqlite_node_destroy of a never-started node frees memory and closes the bound socket: quick,
            // but it is still a C call that may touch the file system, so it runs off the cooperative pool.
            do {
                _ = try await BlockingCalls.run(nodeID: id) { handle.destroy() }
            } catch {
                lifecycle.withLock { $0 = .created(handle, lock) }
                throw error
            }
            lock.release()
            lifecycle.withLock { $0 = .stopped }
            logger.debug("dqlite node released without being started", metadata: ["node.id": "\(id)"])
        case .stop(let handle, let lock, let bound):
            let outcome: Result<Void, DqliteNodeError>
            do {
                outcome = try await BlockingCalls.run(nodeID: id) { () throws(DqliteNodeError) in
                    try handle.stopAndDestroy(nodeID: id)
                }
            } catch {
                lifecycle.withLock { $0 = .running(handle, lock, boundAddress: bound) }
                throw error
            }
            lock.release()
            lifecycle.withLock { $0 = .stopped }
            logger.debug("dqlite node stopped", metadata: ["node.id": "\(id)", "duration": "\(clock.now - began)"])
            try outcome.get()
        }
    }

    /// Stops the node unless it is already stopped (for cleanup paths); other errors are thrown.
    func stopIfNeeded() async throws(DqliteNodeError) {
        guard state != .stopped else { return }
        do {
            try await stop()
        } catch {
            guard error.code == .alreadyStopped else { throw error }
        }
    }

    /// A logger that discards everything: the default for ``init(id:address:dataDirectory:options:logger:)``.
    public static let discardingLogger = Logger(label: "dqlite.node", factory: { _ in SwiftLogNoOpLogHandler() })
}
