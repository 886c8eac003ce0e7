import DqliteLocalCluster
import Testing

@testable import Dqlite

/// The opt-in `serializesWrites`: the client's own autocommit writes wait in a FIFO queue.
@Suite("Serialized autocommit writes", .timeLimit(.minutes(3)))
struct WriteQueueTests {
    @Test("8 writers through the queue: every insert commits, none meets SQLITE_BUSY from the others")
    func eightQueuedWriters() async throws {
        let writers = 8
        let insertsPerWriter = 20
        try await withClusterClient(.v1_11, configure: { $0.serializesWrites = true }) { _, client in
            try await client.execute("CREATE TABLE log (writer INTEGER NOT NULL, seq INTEGER NOT NULL)")
            let failures = await concurrentInserts(client, writers: writers, insertsPerWriter: insertsPerWriter)
            #expect(failures.isEmpty, "\(failures.prefix(5))")
            #expect(try await client.scalar("SELECT count(*) FROM log") == writers * insertsPerWriter)
            // Reads and transactions do not go through the queue.
            let total: Int = try await client.withTransaction { session in
                try await session.execute("INSERT INTO log (writer, seq) VALUES (-1, 0)")
                return try await session.scalar("SELECT count(*) FROM log")
            }
            #expect(total == writers * insertsPerWriter + 1)
        }
    }

    @Test("a waiter cancelled in the queue throws .cancelled and leaves the queue; the gate still works")
    func cancelledWaiter() async throws {
        let gate = WriteGate()
        let (entered, enteredSignal) = AsyncStream<Void>.makeStream()
        let (release, releaseSignal) = AsyncStream<Void>.makeStream()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await gate.withGate {
                    enteredSignal.yield()
                    for await _ in release { break }
                }
            }
            var iterator = entered.makeAsyncIterator()
            _ = await iterator.next()
            let waiter = Task { try await gate.withGate { 1 } }
            try await Task.sleep(for: .milliseconds(50))
            waiter.cancel()
            let result = await waiter.result
            guard case .failure(let error as DqliteError) = result else {
                Issue.record("expected .cancelled, got \(result)")
                releaseSignal.finish()
                return
            }
            #expect(error.code == .cancelled)
            releaseSignal.yield()
            releaseSignal.finish()
            try await group.waitForAll()
            #expect(try await gate.withGate { 2 } == 2)
        }
    }
}
