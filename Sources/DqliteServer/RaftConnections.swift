import CDqlite

/// How embedded nodes dial each other: libdqlite's raft connections go through `cdqlite_connect_tcp_nodelay`
/// (CDqlite's shim.h), which sets TCP_NODELAY, as go-dqlite's `app` does by dialling from Go.
///
/// Without it, libdqlite 1.11.1's default connect function leaves Nagle's algorithm on, and a replicated commit
/// waits for the peer's delayed ACK: 3 nodes committed ~70 writes/s with a p99 of ~45 ms (docs/benchmarks.md).
enum RaftConnections {
    /// The process-wide count of raft connections that the connect function made (all nodes share it).
    /// One allocation for the life of the process.
    private struct Counter: @unchecked Sendable {
        // Only ever touched through the C atomics in shim.h.
        let pointer: UnsafeMutableRawPointer?
    }

    private static let counter = Counter(pointer: cdqlite_counter_create())

    /// How many raft connections embedded nodes of this process have dialled so far.
    static var dialled: UInt { cdqlite_counter_load(counter.pointer) }

    /// Installs the connect function on a node that has not started. Returns libdqlite's return code.
    static func install(on node: OpaquePointer) -> Int32 {
        cdqlite_node_use_nodelay_connect(node, counter.pointer)
    }
}
