import NIOConcurrencyHelpers
import Testing

@testable import Dqlite

/// The write gate without a server: one holder at a time, first come first served, cancellation leaves
/// the queue, and no turn is lost whatever the order of events.
@Suite("Write gate")
struct WriteGateTests {
    /// Waits (yielding) until `gate` has `count` waiters.
    static func waitUntil(_ gate: WriteGate, hasWaiting count: Int) async {
        while gate.waiting != count { await Task.yield() }
    }

    @Test("holders run one at a time, in the order they queued")
    func fifo() async throws {
        let gate = WriteGate()
        let order = NIOLockedValueBox<[Int]>([])
        let inside = NIOLockedValueBox(0)
        let release = AsyncStream<Void>.makeStream()
        try await withThrowingTaskGroup(of: Void.self) { group in
            // The first holder keeps the gate until released, so the others queue in a known order.
            group.addTask {
                try await gate.withGate {
                    order.withLockedValue { $0.append(0) }
                    for await _ in release.stream { break }
                }
            }
            while order.withLockedValue({ $0 }).isEmpty { await Task.yield() }
            for index in 1...5 {
                group.addTask {
                    try await gate.withGate {
                        let holders = inside.withLockedValue { count -> Int in
                            count += 1
                            return count
                        }
                        #expect(holders == 1, "two holders at once")
                        order.withLockedValue { $0.append(index) }
                        await Task.yield()
                        inside.withLockedValue { $0 -= 1 }
                    }
                }
                await Self.waitUntil(gate, hasWaiting: index)
            }
            release.continuation.yield()
            release.continuation.finish()
            try await group.waitForAll()
        }
        #expect(order.withLockedValue { $0 } == [0, 1, 2, 3, 4, 5])
        #expect(gate.waiting == 0)
    }

    @Test("a cancelled waiter throws cancelled (not applied), leaves the queue, and the next one gets the turn")
    func cancelledWaiter() async throws {
        let gate = WriteGate()
        let release = AsyncStream<Void>.makeStream()
        let holding = NIOLockedValueBox(false)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await gate.withGate {
                    holding.withLockedValue { $0 = true }
                    for await _ in release.stream { break }
                }
            }
            while !holding.withLockedValue({ $0 }) { await Task.yield() }
            let cancelled = Task {
                do {
                    _ = try await gate.withGate { Issue.record("a cancelled waiter got the turn") }
                    return DqliteError.Code.server
                } catch let error as DqliteError {
                    #expect(error.outcome == .notApplied)
                    return error.code
                }
            }
            await Self.waitUntil(gate, hasWaiting: 1)
            let next = Task { try await gate.withGate { 42 } }
            await Self.waitUntil(gate, hasWaiting: 2)
            cancelled.cancel()
            #expect(try await cancelled.value == .cancelled)
            await Self.waitUntil(gate, hasWaiting: 1)
            release.continuation.yield()
            release.continuation.finish()
            #expect(try await next.value == 42)
            try await group.waitForAll()
        }
        // The turn is free again.
        #expect(try await gate.withGate { "free" } == "free")
    }

    @Test("a task cancelled before it queues never holds the gate; the gate stays usable")
    func cancelledBeforeQueueing() async throws {
        let gate = WriteGate()
        let release = AsyncStream<Void>.makeStream()
        let holding = NIOLockedValueBox(false)
        let holder = Task {
            try await gate.withGate {
                holding.withLockedValue { $0 = true }
                for await _ in release.stream { break }
            }
        }
        while !holding.withLockedValue({ $0 }) { await Task.yield() }
        let early = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await gate.withGate { true }
        }
        await #expect(throws: DqliteError.self) { try await early.value }
        #expect(gate.waiting == 0)
        release.continuation.yield()
        release.continuation.finish()
        try await holder.value
        #expect(try await gate.withGate { 1 } == 1)
    }

    @Test("many writers with random cancellations: every uncancelled one runs exactly once, never two at a time")
    func stress() async throws {
        let gate = WriteGate()
        let inside = NIOLockedValueBox(0)
        let ran = NIOLockedValueBox<Set<Int>>([])
        let tasks = (0..<200).map { index in
            Task {
                try await gate.withGate {
                    #expect(
                        inside.withLockedValue { count -> Int in
                            count += 1
                            return count
                        } == 1)
                    ran.withLockedValue { _ = $0.insert(index) }
                    await Task.yield()
                    inside.withLockedValue { $0 -= 1 }
                }
            }
        }
        var cancelled: Set<Int> = []
        for index in stride(from: 0, to: 200, by: 7) {
            tasks[index].cancel()
            cancelled.insert(index)
        }
        var failed: Set<Int> = []
        for (index, task) in tasks.enumerated() {
            do { try await task.value } catch { failed.insert(index) }
        }
        #expect(failed.isSubset(of: cancelled), "only cancelled writers fail")
        #expect(ran.withLockedValue { $0 }.union(failed).count == 200, "every writer either ran or was cancelled")
        #expect(ran.withLockedValue { $0 }.isDisjoint(with: failed))
        #expect(gate.waiting == 0)
        #expect(try await gate.withGate { true })
    }
}
