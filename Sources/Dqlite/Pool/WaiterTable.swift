import NIOConcurrencyHelpers

/// The suspended callers of a ``PoolStateMachine`` (the connection pool's, and the write gate's): each
/// waiter's continuation, or the outcome it was handed before it suspended. Kept under the same lock as the
/// state machine, so a decision and its hand-over are one step and no waiter misses its outcome.
///
/// The order of the waiters, their limit and their cancellation are the state machine's (`waiters`,
/// `cancelWaiter`); this table only connects those decisions to suspended tasks.
struct WaiterTable<Outcome: Sendable> {
    typealias Continuation = CheckedContinuation<Outcome, any Error>

    private var continuations: [Int: Continuation] = [:]
    private var pending: [Int: Outcome] = [:]
    private var lastID = 0

    /// A new waiter id.
    mutating func makeWaiter() -> Int {
        lastID += 1
        return lastID
    }

    /// When `waiter` suspends: the outcome it was already handed, a cancellation if it is no longer queued
    /// (it gave up before suspending), or nil once its continuation is stored.
    mutating func suspend(_ waiter: Int, isQueued: Bool, continuation: Continuation) -> Result<Outcome, any Error>? {
        if let outcome = pending.removeValue(forKey: waiter) { return .success(outcome) }
        guard isQueued else { return .failure(CancellationError()) }
        continuations[waiter] = continuation
        return nil
    }

    /// Hands `outcome` to `waiter`: the continuation to resume (outside the lock), or nil when the waiter has
    /// not suspended yet (it finds the outcome when it does).
    mutating func hand(_ outcome: Outcome, to waiter: Int) -> Continuation? {
        if let continuation = continuations.removeValue(forKey: waiter) { return continuation }
        pending[waiter] = outcome
        return nil
    }

    /// `waiter` left the queue (the state machine said it was still queued): its continuation, to resume
    /// with a cancellation outside the lock.
    mutating func remove(_ waiter: Int) -> Continuation? {
        continuations.removeValue(forKey: waiter)
    }
}

/// Locked state that pairs a ``PoolStateMachine`` with its ``WaiterTable`` (the connection pool's and the
/// write gate's), so that both suspend their waiters the same way.
protocol PoolWaiterState: Sendable {
    associatedtype Connection: AnyObject & Sendable
    var machine: PoolStateMachine<Connection> { get set }
    var waiters: WaiterTable<PoolStateMachine<Connection>.WaiterOutcome> { get set }
}

extension NIOLockedValueBox where Value: PoolWaiterState {
    /// Suspends `waiter` (queued by the state machine) until it is handed an outcome. Cancellation removes
    /// it from the queue and throws `CancellationError`, unless it was served first.
    func suspend(_ waiter: Int) async throws -> PoolStateMachine<Value.Connection>.WaiterOutcome {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let immediate = withLockedValue { locked in
                    locked.waiters.suspend(
                        waiter, isQueued: locked.machine.waiters.contains(waiter), continuation: continuation)
                }
                if let immediate { continuation.resume(with: immediate) }
            }
        } onCancel: {
            let continuation = withLockedValue { locked in
                locked.machine.cancelWaiter(waiter) ? locked.waiters.remove(waiter) : nil
            }
            continuation?.resume(throwing: CancellationError())
        }
    }
}
