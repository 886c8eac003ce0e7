import CDqlite
import Glibc
import Synchronization

/// A `dqlite_node *` and the blocking C calls made on it.
///
/// `@unchecked Sendable` because the pointer itself is not thread-safe. It is sound here because
/// ``DqliteNode``'s state machine hands the handle to exactly one user at a time: the thread-pool work
/// item of `init`, `start()` or `stop()` (the state is `.starting`/`.stopping` meanwhile, which refuses
/// every other operation), or `deinit`, when no other reference to the node exists.
struct NodeHandle: @unchecked Sendable {
    let pointer: OpaquePointer

    /// What ``create(_:)`` needs: everything already validated and resolved.
    struct Configuration: Sendable {
        var id: UInt64
        var address: String
        var bindAddress: String
        var dataDirectory: String
        var networkLatencyMilliseconds: UInt32?
        var snapshotParameters: (threshold: UInt32, trailing: UInt32)?
        var failureDomain: UInt64?
    }

    /// `dqlite_node_create`, then every setter. On any failure the node is destroyed and the error thrown.
    /// Blocks (raft probes the data directory's I/O capabilities).
    static func create(_ configuration: Configuration) throws(DqliteNodeError) -> NodeHandle {
        let id = configuration.id
        var created: OpaquePointer?
        let rc = creation.withLock { _ in
            dqlite_node_create(id, configuration.address, configuration.dataDirectory, &created)
        }
        guard rc == 0, let pointer = created else {
            // 1.11.1 frees the node and sets it to NULL on failure (so there is no message); newer versions
            // keep it so that errmsg works, and ask the caller to destroy it.
            let message = created.flatMap { Self.errorMessage($0) }
            if let created { dqlite_node_destroy(created) }
            throw Self.failure(
                .create, rc: rc == 0 ? 1 : rc, message: message,
                hint: hint(forCreate: rc, configuration: configuration), nodeID: id)
        }
        let handle = NodeHandle(pointer: pointer)
        do throws(DqliteNodeError) {
            // The bind address must always be set: 1.11.1 asserts (aborts the process) in dqlite_node_start
            // when no listener was created. It also binds the socket right here, so a port in use fails now.
            try handle.check(
                dqlite_node_set_bind_address(pointer, configuration.bindAddress), .setBindAddress, nodeID: id,
                hint: "cannot listen on \(configuration.bindAddress) (port in use, or not a local address?)")
            // Raft connections to other nodes with TCP_NODELAY (RaftConnections): 10x the replicated commits/s.
            try handle.check(
                RaftConnections.install(on: pointer), .setConnectFunction, nodeID: id,
                hint: "cannot set the raft connect function")
            if let milliseconds = configuration.networkLatencyMilliseconds {
                try handle.check(
                    dqlite_node_set_network_latency_ms(pointer, milliseconds), .setNetworkLatency, nodeID: id,
                    hint: "network latency \(milliseconds) ms refused (allowed: 1 to 3600000)")
            }
            if let snapshot = configuration.snapshotParameters {
                try handle.check(
                    dqlite_node_set_snapshot_params(pointer, snapshot.threshold, snapshot.trailing),
                    .setSnapshotParameters, nodeID: id,
                    hint: "snapshot threshold \(snapshot.threshold) / trailing \(snapshot.trailing) refused "
                        + "(libdqlite 1.11.1 requires trailing > threshold)")
            }
            if let failureDomain = configuration.failureDomain {
                try handle.check(
                    dqlite_node_set_failure_domain(pointer, failureDomain), .setFailureDomain, nodeID: id,
                    hint: "failure domain refused")
            }
        } catch {
            dqlite_node_destroy(pointer)
            throw error
        }
        return handle
    }

    /// Serializes `dqlite_node_create` across the process. libdqlite names each node's SQLite VFS
    /// `dqlite-<serial>` from a process-wide counter that is not thread-safe (config.c: "TODO: make this
    /// thread safe"); two concurrent creates could get the same name, and SQLite would then route one node's
    /// databases through the other node's VFS.
    private static let creation = Mutex(())

    /// `dqlite_node_start`; returns the address the node listens on. Blocks until the node's thread runs.
    /// On failure the node is destroyed (as libdqlite's own examples do) and the error thrown.
    ///
    /// SIGPIPE is blocked in the calling thread around the call, so the node's thread (created by
    /// `dqlite_node_start`, inheriting the signal mask) never gets it: libuv writes to sockets with plain
    /// `write`, and a peer that goes away would otherwise kill the whole process with SIGPIPE. libuv then
    /// sees `EPIPE` instead. The process-wide SIGPIPE disposition is left alone.
    func start(nodeID: UInt64, requestedBindAddress: String) throws(DqliteNodeError) -> String {
        var brokenPipe = sigset_t()
        var previous = sigset_t()
        sigemptyset(&brokenPipe)
        sigaddset(&brokenPipe, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &brokenPipe, &previous)
        let rc = dqlite_node_start(pointer)
        pthread_sigmask(SIG_SETMASK, &previous, nil)
        guard rc == 0 else {
            let message = Self.errorMessage(pointer)
            dqlite_node_destroy(pointer)
            throw Self.failure(.start, rc: rc, message: message, hint: "the node did not start", nodeID: nodeID)
        }
        guard let bound = dqlite_node_get_bind_address(pointer) else { return requestedBindAddress }
        return String(cString: bound)
    }

    /// `dqlite_node_stop` then `dqlite_node_destroy` (always, even when stop fails: the node's thread has
    /// been joined either way). Blocks until the node's thread has closed every connection and exited.
    func stopAndDestroy(nodeID: UInt64) throws(DqliteNodeError) {
        let rc = dqlite_node_stop(pointer)
        let message = rc == 0 ? nil : Self.errorMessage(pointer)
        dqlite_node_destroy(pointer)
        guard rc == 0 else {
            throw Self.failure(.stop, rc: rc, message: message, hint: "the node did not stop cleanly", nodeID: nodeID)
        }
    }

    /// `dqlite_node_destroy` of a node that was never started.
    func destroy() {
        dqlite_node_destroy(pointer)
    }

    private func check(_ rc: Int32, _ operation: DqliteNodeError.Operation, nodeID: UInt64, hint: String)
        throws(DqliteNodeError)
    {
        guard rc != 0 else { return }
        throw Self.failure(operation, rc: rc, message: Self.errorMessage(pointer), hint: hint, nodeID: nodeID)
    }

    /// `dqlite_node_errmsg`, or nil when it is empty (1.11.1 sets it only for raft failures).
    private static func errorMessage(_ pointer: OpaquePointer) -> String? {
        guard let text = dqlite_node_errmsg(pointer) else { return nil }
        let message = String(cString: text)
        return message.isEmpty ? nil : message
    }

    private static func failure(
        _ operation: DqliteNodeError.Operation, rc: Int32, message: String?, hint: String, nodeID: UInt64
    ) -> DqliteNodeError {
        DqliteNodeError(
            .libdqlite, operation: operation, returnCode: rc,
            message: message ?? "\(hint) (libdqlite gave no error message)", nodeID: nodeID)
    }

    private static func hint(forCreate rc: Int32, configuration: Configuration) -> String {
        switch rc {
        case 19: return "data directory \(configuration.dataDirectory) not found"
        case 20: return "data directory \(configuration.dataDirectory) is not usable"
        default: return "cannot create node \(configuration.id) at \(configuration.address)"
        }
    }
}
