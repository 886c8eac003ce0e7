import NIOConcurrencyHelpers

/// A first-in, first-out gate with one holder at a time (see ``DqliteClient/Configuration/serializesWrites``).
///
/// dqlite runs one write transaction at a time and refuses the others with SQLITE_BUSY at once. Queueing the
/// client's own autocommit writes here, in arrival order, replaces busy retries (and their unfair backoff)
/// with a fair wait. A waiter whose task is cancelled leaves the queue and throws ``DqliteError/Code/cancelled``.
///
/// The gate is a pool of one: the connection pool's ``PoolStateMachine`` (maximum 1) decides who holds the
/// turn and who waits, in order, and the same ``WaiterTable`` connects its decisions to suspended tasks.
final class WriteGate: Sendable {
    /// What the gate hands out: whoever holds it may write.
    final class Turn: Sendable {}

    private typealias Machine = PoolStateMachine<Turn>

    private struct Locked: PoolWaiterState {
        var machine = Machine(
            limits: .init(minimum: 0, maximum: 1, maximumWaiters: .max, idleTimeout: .seconds(Int64.max)))
        var waiters = WaiterTable<Machine.WaiterOutcome>()
    }

    private let state = NIOLockedValueBox(Locked())
    private let turn = Turn()

    /// Runs `body` as the only holder of the gate.
    func withGate<Result>(
        isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> Result
    ) async throws -> Result {
        try await enter()
        defer { leave() }
        return try await body()
    }

    /// Waiting callers, for tests.
    var waiting: Int { state.withLockedValue { $0.machine.waiters.count } }

    private func enter() async throws {
        let (waiter, action) = state.withLockedValue { locked in
            let waiter = locked.waiters.makeWaiter()
            return (waiter, locked.machine.lease(waiter: waiter, now: .now))
        }
        let outcome: Machine.WaiterOutcome
        switch action {
        case .use: return
        case .create(let generation): outcome = .create(generation: generation)
        case .fail(let error): throw error
        case .wait:
            do {
                outcome = try await state.suspend(waiter)
            } catch {
                throw DqliteError(.cancelled, "cancelled while queued to write", outcome: .notApplied)
            }
        }
        switch outcome {
        case .connection: return
        // The first holder ever: the free slot becomes the turn.
        case .create: state.withLockedValue { $0.machine.created() }
        case .closed: throw DqliteError(.poolClosed, "the write queue is closed")
        }
    }

    /// Hands the turn to the first waiter, or frees it.
    private func leave() {
        let next = state.withLockedValue {
            locked -> (WaiterTable<Machine.WaiterOutcome>.Continuation, Machine.WaiterOutcome)? in
            let action = locked.machine.release(
                turn, reusable: true, generation: locked.machine.generation, now: .now)
            guard case .resume(let waiter, let outcome, _) = action,
                let continuation = locked.waiters.hand(outcome, to: waiter)
            else { return nil }
            return (continuation, outcome)
        }
        if let (continuation, outcome) = next { continuation.resume(returning: outcome) }
    }
}
