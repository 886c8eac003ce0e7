import DqliteWire
import Logging
import NIOConcurrencyHelpers

/// A pool of connections to the leader, for one database.
///
/// - ``lease(deadline:logger:)`` returns an idle connection (checked first if it sat idle long), creates
///   one if the pool is below its maximum, or waits — FIFO, in a bounded queue, until the deadline.
/// - ``release(_:reusable:)`` is synchronous, so it can run from anywhere (including a `deinit`).
/// - ``leaderChanged()`` closes every idle connection; leased ones are closed when they come back.
/// - ``maintain()`` (run by `DqliteClient.run()`) closes connections idle past the timeout and keeps the
///   minimum open.
final class ConnectionPool: Sendable {
    typealias Factory = @Sendable (_ generation: UInt64, _ logger: Logger) async throws -> PooledConnection

    struct Configuration: Sendable {
        var minimumConnections: Int
        var maximumConnections: Int
        var maximumWaiters: Int
        var idleTimeout: Duration
        /// An idle connection older than this is checked (LEADER must name the node) before reuse.
        var checkAfterIdle: Duration
        var checkTimeout: Duration
    }

    private struct Locked: PoolWaiterState {
        var machine: PoolStateMachine<PooledConnection>
        var waiters = WaiterTable<PoolStateMachine<PooledConnection>.WaiterOutcome>()

        /// Applies a release-type action: a waiter's outcome goes to its continuation, or waits for it.
        mutating func route(_ action: PoolStateMachine<PooledConnection>.ReleaseAction) -> Effects {
            switch action {
            case .none: return Effects()
            case .close(let connection): return Effects(closing: connection)
            case .resume(let waiter, let outcome, let closing):
                guard let continuation = waiters.hand(outcome, to: waiter) else { return Effects(closing: closing) }
                return Effects(closing: closing, resume: (continuation, outcome))
            }
        }
    }

    /// What to do outside the lock after a decision.
    private struct Effects {
        var closing: PooledConnection?
        var resume:
            (
                CheckedContinuation<PoolStateMachine<PooledConnection>.WaiterOutcome, any Error>,
                PoolStateMachine<PooledConnection>.WaiterOutcome
            )?

        func run() {
            closing?.close()
            if let (continuation, outcome) = resume { continuation.resume(returning: outcome) }
        }
    }

    let database: String
    let configuration: Configuration
    private let factory: Factory
    private let state: NIOLockedValueBox<Locked>
    private let onLeaderChange: @Sendable () -> Void
    /// Queues autocommit writes when ``DqliteClient/Configuration/serializesWrites`` is on.
    let writeGate = WriteGate()

    init(
        database: String, configuration: Configuration, factory: @escaping Factory,
        onLeaderChange: @escaping @Sendable () -> Void
    ) {
        self.database = database
        self.configuration = configuration
        self.factory = factory
        self.onLeaderChange = onLeaderChange
        let limits = PoolStateMachine<PooledConnection>.Limits(
            minimum: configuration.minimumConnections, maximum: max(1, configuration.maximumConnections),
            maximumWaiters: configuration.maximumWaiters, idleTimeout: configuration.idleTimeout)
        self.state = NIOLockedValueBox(Locked(machine: PoolStateMachine(limits: limits)))
    }

    /// Counts for metrics and tests: (idle, leased, creating, waiting).
    var counts: (idle: Int, leased: Int, creating: Int, waiting: Int) {
        state.withLockedValue {
            ($0.machine.idle.count, $0.machine.leased, $0.machine.creating, $0.machine.waiters.count)
        }
    }

    /// True once ``shutDown()`` ran.
    var isShutDown: Bool { state.withLockedValue { $0.machine.isShutDown } }

    // MARK: - Lease

    func lease(deadline: ContinuousClock.Instant, logger: Logger) async throws -> PooledConnection {
        while true {
            if Task.isCancelled { throw DqliteError(.cancelled, "waiting for a connection was cancelled") }
            let (waiter, action) = state.withLockedValue { locked in
                let waiter = locked.waiters.makeWaiter()
                return (waiter, locked.machine.lease(waiter: waiter, now: .now))
            }
            switch action {
            case .use(let connection, let idleFor):
                if await isHealthy(connection, idleFor: idleFor, logger: logger) { return connection }
                release(connection, reusable: false)
            case .create(let generation):
                return try await create(generation: generation, logger: logger)
            case .fail(let error):
                throw error
            case .wait:
                let outcome: PoolStateMachine<PooledConnection>.WaiterOutcome
                do {
                    outcome = try await wait(waiter, deadline: deadline)
                } catch is CancellationError {
                    throw DqliteError(.cancelled, "waiting for a connection was cancelled")
                }
                switch outcome {
                case .connection(let connection):
                    if connection.isUsable { return connection }
                    release(connection, reusable: false)
                case .create(let generation):
                    return try await create(generation: generation, logger: logger)
                case .closed:
                    throw DqliteError(.poolClosed, "the client is shut down")
                }
            }
        }
    }

    private func create(generation: UInt64, logger: Logger) async throws -> PooledConnection {
        do {
            let connection = try await factory(generation, logger)
            state.withLockedValue { $0.machine.created() }
            return connection
        } catch {
            state.withLockedValue { $0.route($0.machine.creationFailed()) }.run()
            throw error
        }
    }

    /// Waits for a released connection or a free slot, until `deadline`; cancellation and the deadline
    /// remove the waiter from the queue (a connection handed over in the same instant is given back).
    private func wait(_ waiter: Int, deadline: ContinuousClock.Instant) async throws
        -> PoolStateMachine<PooledConnection>.WaiterOutcome
    {
        try await withThrowingTaskGroup(of: PoolStateMachine<PooledConnection>.WaiterOutcome?.self) { group in
            group.addTask { try await self.state.suspend(waiter) }
            group.addTask {
                try await Task.sleep(until: deadline)
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            // Timed out: whatever the waiter was handed in the same instant must not leak.
            if first == nil, let late = try? await group.next() {
                switch late {
                case .connection(let connection)?: release(connection, reusable: true)
                case .create?: state.withLockedValue { $0.route($0.machine.creationFailed()) }.run()
                case .closed?, nil: break
                }
            }
            guard let first else {
                throw DqliteError(
                    .poolExhausted,
                    "no connection to the leader became free before the deadline (all \(configuration.maximumConnections) busy)"
                )
            }
            return first
        }
    }

    private func isHealthy(_ pooled: PooledConnection, idleFor: Duration, logger: Logger) async -> Bool {
        guard pooled.isUsable else { return false }
        guard idleFor >= configuration.checkAfterIdle else { return true }
        do {
            let response = try await pooled.connection.call(.leader, timeout: configuration.checkTimeout)
            if case .server(_, let address) = response, (try? DqliteNodeAddress(address)) == pooled.connection.address {
                return true
            }
            logger.debug(
                "dqlite pooled connection no longer reaches the leader",
                metadata: ["node": "\(pooled.connection.address)"])
            leaderChanged()
            return false
        } catch {
            return false
        }
    }

    // MARK: - Release and housekeeping

    /// Returns a leased connection. Not reusable: closed (and its slot offered to a waiter).
    func release(_ connection: PooledConnection, reusable: Bool) {
        state.withLockedValue { locked in
            locked.route(
                locked.machine.release(
                    connection, reusable: reusable && connection.isUsable, generation: connection.generation, now: .now)
            )
        }.run()
    }

    /// The leader changed (a connection reported leadership loss, or a check found another leader).
    func leaderChanged() {
        let stale = state.withLockedValue { $0.machine.leaderChanged() }
        for connection in stale { connection.close() }
        onLeaderChange()
    }

    /// Another database's pool saw the leader change: move to a new generation quietly.
    func dropIdleConnections() {
        let stale = state.withLockedValue { $0.machine.leaderChanged() }
        for connection in stale { connection.close() }
    }

    /// Closes idle connections past the idle timeout and opens connections up to the minimum.
    func maintain(logger: Logger) async {
        let expired = state.withLockedValue { $0.machine.expire(now: .now) }
        for connection in expired { connection.close() }
        let (count, generation) = state.withLockedValue { $0.machine.refill() }
        for _ in 0..<count {
            do {
                let connection = try await factory(generation, logger)
                state.withLockedValue { $0.route($0.machine.refilled(connection, generation: generation, now: .now)) }
                    .run()
            } catch {
                state.withLockedValue { $0.route($0.machine.creationFailed()) }.run()
                logger.debug("dqlite pool could not open a connection", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Closes idle connections, fails waiters; leased connections close when released.
    func shutDown() {
        let (idle, continuations) = state.withLockedValue { locked in
            let (waiters, idle) = locked.machine.shutDown()
            var continuations: [CheckedContinuation<PoolStateMachine<PooledConnection>.WaiterOutcome, any Error>] = []
            for waiter in waiters {
                if let continuation = locked.waiters.hand(.closed, to: waiter) { continuations.append(continuation) }
            }
            return (idle, continuations)
        }
        for continuation in continuations { continuation.resume(returning: .closed) }
        for connection in idle { connection.close() }
    }
}
