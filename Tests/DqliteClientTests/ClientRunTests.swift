import DqliteLocalCluster
import Testing

@testable import Dqlite

/// `run()` is the client's one housekeeping loop: a second call is refused instead of starting a second loop
/// (before, both ran, and the first to end shut the client down under the other).
@Suite("DqliteClient.run()", .timeLimit(.minutes(2)))
struct ClientRunTests {
    @Test("a second run() throws invalidRequest at once; the first goes on and the client keeps working")
    func secondRunRefused() async throws {
        try await withClusterClient(.v1_11) { _, client in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await client.run() }
                // Let the first run() start (it marks the client as run before its loop).
                while !client.hasRun { await Task.yield() }
                let error = await #expect(throws: DqliteError.self) { try await client.run() }
                #expect(error?.code == .invalidRequest)
                try await client.execute("CREATE TABLE t (x INTEGER)")
                #expect(!client.isShutDown, "the refused run() did not shut the client down")
                group.cancelAll()
                try await group.waitForAll()
            }
            #expect(client.isShutDown, "the first run() shuts the client down when cancelled")
        }
    }
}
