import NIOConcurrencyHelpers

/// A first-in, first-out gate with one holder at a time (see ``DqliteClient/Configuration/serializesWrites``).
///
/// dqlite runs one write transaction at a time and refuses the others with SQLITE_BUSY at once. Queueing the
/// client's own autocommit writes here, in arrival order, replaces busy retries (and their unfair backoff)
/// with a fair wait. A waiter whose task is cancelled leaves the queue and throws ``DqliteError/Code/cancelled``.
final class WriteGate: Sendable {
    private struct State {
        var held = false
        var nextID: UInt64 = 0
        /// Waiting ids, first come first served, and their continuations.
        var queue: [UInt64] = []
        var waiting: [UInt64: CheckedContinuation<Void, any Error>] = [:]
        /// Ids between registration and admission (or cancellation).
        var registered: Set<UInt64> = []
        /// Registered ids cancelled before their continuation was queued.
        var cancelledEarly: Set<UInt64> = []
    }

    private let state = NIOLockedValueBox(State())

    /// Runs `body` as the only holder of the gate.
    func withGate<Result>(
        isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> Result
    ) async throws -> Result {
        do {
            try await enter()
        } catch {
            throw DqliteError(.cancelled, "cancelled while queued to write", outcome: .notApplied)
        }
        defer { leave() }
        return try await body()
    }

    private func enter() async throws {
        let id: UInt64? = state.withLockedValue { state in
            if !state.held, state.queue.isEmpty {
                state.held = true
                return nil
            }
            state.nextID &+= 1
            state.registered.insert(state.nextID)
            return state.nextID
        }
        guard let id else { return }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                enum Decision { case admitted, cancelled, queued }
                let decision = state.withLockedValue { state -> Decision in
                    if state.cancelledEarly.remove(id) != nil {
                        state.registered.remove(id)
                        return .cancelled
                    }
                    // The gate may have been freed meanwhile.
                    if !state.held, state.queue.isEmpty {
                        state.held = true
                        state.registered.remove(id)
                        return .admitted
                    }
                    state.queue.append(id)
                    state.waiting[id] = continuation
                    return .queued
                }
                switch decision {
                case .admitted: continuation.resume()
                case .cancelled: continuation.resume(throwing: CancellationError())
                case .queued: break
                }
            }
        } onCancel: {
            let removed = state.withLockedValue { state -> CheckedContinuation<Void, any Error>? in
                if let continuation = state.waiting.removeValue(forKey: id) {
                    state.queue.removeAll { $0 == id }
                    state.registered.remove(id)
                    return continuation
                }
                if state.registered.contains(id) { state.cancelledEarly.insert(id) }
                return nil
            }
            removed?.resume(throwing: CancellationError())
        }
    }

    /// Hands the gate to the first waiter, or frees it.
    private func leave() {
        let next = state.withLockedValue { state -> CheckedContinuation<Void, any Error>? in
            while !state.queue.isEmpty {
                let id = state.queue.removeFirst()
                state.registered.remove(id)
                if let continuation = state.waiting.removeValue(forKey: id) { return continuation }
            }
            state.held = false
            return nil
        }
        next?.resume()
    }
}
