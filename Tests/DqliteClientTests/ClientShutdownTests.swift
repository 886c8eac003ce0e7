import DqliteLocalCluster
import NIOConcurrencyHelpers
import Testing

@testable import Dqlite

/// `shutdown(waitingUpTo:)`: the client is shut down and the call returns once its connections are closed,
/// leased ones included (they close when given back), or at the deadline. `shutdown()` alone returns at once,
/// with a leased connection still open.
@Suite("Client shutdown that waits", .timeLimit(.minutes(2)))
struct ClientShutdownTests {
    /// Runs `body` while another task holds a leased connection for `hold`.
    static func withHeldConnection(
        _ client: DqliteClient, hold: Duration, _ body: (_ released: NIOLockedValueBox<Bool>) async throws -> Void
    ) async throws {
        let released = NIOLockedValueBox(false)
        let leased = NIOLockedValueBox(false)
        let holder = Task {
            try await client.withConnection { session in
                try await session.execute("INSERT INTO t VALUES (1)")
                leased.withLockedValue { $0 = true }
                try? await Task.sleep(for: hold)
                released.withLockedValue { $0 = true }
            }
        }
        while !leased.withLockedValue({ $0 }) { try await Task.sleep(for: .milliseconds(2)) }
        try await body(released)
        try await holder.value
    }

    @Test("it returns once the leased connection is given back and closed")
    func waitsForLeased() async throws {
        try await withClusterClient(.v1_11) { _, client in
            try await client.execute("CREATE TABLE t (x INTEGER)")
            try await Self.withHeldConnection(client, hold: .milliseconds(300)) { released in
                #expect(client.openConnectionCount >= 1)
                let closed = await client.shutdown(waitingUpTo: .seconds(20))
                #expect(closed)
                #expect(released.withLockedValue { $0 }, "returned before the holder gave its connection back")
                #expect(client.openConnectionCount == 0)
            }
        }
    }

    @Test("plain shutdown() returns at once with the leased connection open; the waiting form stops at its deadline")
    func deadline() async throws {
        try await withClusterClient(.v1_11) { _, client in
            try await client.execute("CREATE TABLE t (x INTEGER)")
            try await Self.withHeldConnection(client, hold: .seconds(2)) { released in
                client.shutdown()
                #expect(client.openConnectionCount >= 1, "the leased connection is still open")
                let clock = ContinuousClock()
                let started = clock.now
                let closed = await client.shutdown(waitingUpTo: .milliseconds(200))
                #expect(!closed)
                #expect(clock.now - started < .seconds(1.5))
                #expect(!released.withLockedValue { $0 })
            }
            // Given back after the deadline: closed then.
            let closed = await client.shutdown(waitingUpTo: .seconds(20))
            #expect(closed && client.openConnectionCount == 0)
        }
    }
}
