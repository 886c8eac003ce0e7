/// The connection pool's bookkeeping as a pure value: every decision (reuse, create, wait, hand over,
/// close) is made here under one lock and carried out by ``ConnectionPool``. No I/O, no clocks of its own,
/// so it is tested directly.
///
/// - Idle connections are reused last-in first-out (the warmest first).
/// - A connection belongs to a *generation* (a leader epoch): when the leader changes, idle connections are
///   closed and leased ones are closed when they come back.
/// - Waiters are served first-come first-served; the queue is bounded.
struct PoolStateMachine<Connection: AnyObject & Sendable>: Sendable {
    struct Limits: Hashable, Sendable {
        var minimum: Int
        var maximum: Int
        var maximumWaiters: Int
        var idleTimeout: Duration
    }

    struct IdleEntry: Sendable {
        var connection: Connection
        var since: ContinuousClock.Instant
    }

    enum LeaseAction: Sendable {
        /// Use this idle connection (idle for that long: check it if long).
        case use(Connection, idleFor: Duration)
        /// Create a connection (a slot is reserved: report ``created(_:)`` or ``creationFailed()``).
        case create(generation: UInt64)
        /// Wait: the waiter was queued.
        case wait
        /// Refuse: the pool is closed or its wait queue is full.
        case fail(DqliteError)
    }

    enum WaiterOutcome: Sendable {
        /// A released connection for the waiter.
        case connection(Connection)
        /// A free slot: the waiter creates its own connection (of this generation).
        case create(generation: UInt64)
        /// The pool shut down.
        case closed
    }

    enum ReleaseAction: Sendable {
        /// Nothing to do (the connection went idle).
        case none
        /// Close the connection.
        case close(Connection)
        /// Resume `waiter` with `outcome`; close `closing` if set.
        case resume(waiter: Int, outcome: WaiterOutcome, closing: Connection?)
    }

    private(set) var limits: Limits
    private(set) var idle: [IdleEntry] = []
    private(set) var leased = 0
    private(set) var creating = 0
    private(set) var waiters: [Int] = []
    private(set) var generation: UInt64 = 1
    private(set) var isShutDown = false

    init(limits: Limits) {
        self.limits = limits
    }

    /// Connections that exist or are being created.
    var total: Int { idle.count + leased + creating }

    mutating func lease(waiter: Int, now: ContinuousClock.Instant) -> LeaseAction {
        if isShutDown { return .fail(DqliteError(.poolClosed, "the client is shut down")) }
        if let entry = idle.popLast() {
            leased += 1
            return .use(entry.connection, idleFor: entry.since.duration(to: now))
        }
        if total < limits.maximum {
            creating += 1
            return .create(generation: generation)
        }
        guard waiters.count < limits.maximumWaiters else {
            return .fail(
                DqliteError(
                    .poolExhausted,
                    "all \(limits.maximum) connections are busy and \(waiters.count) callers are already waiting"))
        }
        waiters.append(waiter)
        return .wait
    }

    /// A reserved slot produced a connection, now leased.
    mutating func created() {
        creating -= 1
        leased += 1
    }

    /// A reserved slot failed to produce a connection; the next waiter may try.
    mutating func creationFailed() -> ReleaseAction {
        // No slot reserved (a spurious report): nothing to free, and no slot to hand over.
        guard creating > 0 else { return .none }
        creating -= 1
        return passSlotToWaiter(closing: nil) ?? .none
    }

    /// A leased connection comes back. `reusable` is false when it failed or is of an old generation.
    mutating func release(
        _ connection: Connection, reusable: Bool, generation connectionGeneration: UInt64,
        now: ContinuousClock.Instant
    ) -> ReleaseAction {
        // Released twice: it is already idle, keep it there once.
        if idle.contains(where: { $0.connection === connection }) { return .none }
        // Never leased (more releases than leases): close it, count nothing.
        guard leased > 0 else { return .close(connection) }
        leased -= 1
        if reusable && connectionGeneration == generation && !isShutDown {
            if !waiters.isEmpty {
                let waiter = waiters.removeFirst()
                leased += 1
                return .resume(waiter: waiter, outcome: .connection(connection), closing: nil)
            }
            idle.append(IdleEntry(connection: connection, since: now))
            return .none
        }
        return passSlotToWaiter(closing: connection) ?? .close(connection)
    }

    private mutating func passSlotToWaiter(closing: Connection?) -> ReleaseAction? {
        guard !isShutDown, !waiters.isEmpty, total < limits.maximum else { return nil }
        let waiter = waiters.removeFirst()
        creating += 1
        return .resume(waiter: waiter, outcome: .create(generation: generation), closing: closing)
    }

    /// A waiter gave up (deadline or cancellation). True if it was still queued.
    mutating func cancelWaiter(_ waiter: Int) -> Bool {
        guard let index = waiters.firstIndex(of: waiter) else { return false }
        waiters.remove(at: index)
        return true
    }

    /// The leader changed: a new generation; idle connections (to the old leader) are to be closed.
    mutating func leaderChanged() -> [Connection] {
        generation += 1
        defer { idle.removeAll() }
        return idle.map(\.connection)
    }

    /// Idle connections past the idle timeout, beyond the minimum, oldest first.
    mutating func expire(now: ContinuousClock.Instant) -> [Connection] {
        var expired: [Connection] = []
        while total > limits.minimum, let oldest = idle.first, oldest.since.duration(to: now) >= limits.idleTimeout {
            expired.append(idle.removeFirst().connection)
        }
        return expired
    }

    /// Connections to create to reach the minimum, never above the maximum (slots are reserved).
    mutating func refill() -> (count: Int, generation: UInt64) {
        guard !isShutDown else { return (0, generation) }
        let missing = max(0, min(limits.minimum, limits.maximum) - total)
        creating += missing
        return (missing, generation)
    }

    /// A refill slot produced an idle connection.
    mutating func refilled(
        _ connection: Connection, generation connectionGeneration: UInt64, now: ContinuousClock.Instant
    ) -> ReleaseAction {
        creating -= 1
        leased += 1
        return release(connection, reusable: true, generation: connectionGeneration, now: now)
    }

    /// Shuts down: waiters to resume with `.closed`, idle connections to close.
    mutating func shutDown() -> (waiters: [Int], idle: [Connection]) {
        isShutDown = true
        defer {
            waiters.removeAll()
            idle.removeAll()
        }
        return (waiters, idle.map(\.connection))
    }
}
