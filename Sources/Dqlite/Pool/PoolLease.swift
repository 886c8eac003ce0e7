import NIOConcurrencyHelpers

/// A pooled connection on loan, given back to its pool exactly once: by an explicit ``release(reusable:)``, by
/// the scope that leased it (`defer { lease.release(reusable: false) }`, which runs whatever is thrown,
/// cancellation included), or, for a row stream handed to the caller, when the lease is dropped.
final class PoolLease: Sendable {
    let pooled: PooledConnection
    let pool: ConnectionPool
    private let held = NIOLockedValueBox(true)

    init(_ pooled: PooledConnection, pool: ConnectionPool) {
        self.pooled = pooled
        self.pool = pool
    }

    /// True until the connection was given back.
    var isHeld: Bool { held.withLockedValue { $0 } }

    /// Gives the connection back (the first call only). Not reusable: the pool closes it, which also ends any
    /// transaction left open on the server.
    func release(reusable: Bool) {
        let wasHeld = held.withLockedValue { held in
            defer { held = false }
            return held
        }
        guard wasHeld else { return }
        pool.release(pooled, reusable: reusable)
    }

    /// A dropped lease gives its connection back as reusable: an unfinished row stream on it is drained by the
    /// connection's next user.
    deinit { release(reusable: true) }
}
