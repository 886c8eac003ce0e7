import DqliteLocalCluster
import Synchronization
import Testing

@testable import Dqlite

/// Defect 6 of the client-core issue: every new pooled connection sent CLUSTER and rewrote the node store (for
/// `FileNodeStore`, a write, an fsync, a rename and a directory fsync per connection).
@Suite("Discovery cost per connection", .timeLimit(.minutes(2)))
struct DiscoveryCostTests {
    /// A node store that counts its writes.
    final class CountingStore: DqliteNodeStore {
        let stored = Mutex<[DqliteNodeInfo]>([])
        let writes = Mutex(0)
        func nodes() async throws -> [DqliteNodeInfo] { stored.withLock { $0 } }
        func setNodes(_ nodes: [DqliteNodeInfo]) async throws {
            stored.withLock { $0 = nodes }
            writes.withLock { $0 += 1 }
        }
    }

    @Test("eight pooled connections to one leader: the store is written once")
    func storeWrittenOnce() async throws {
        let store = CountingStore()
        try await withClusterClient(
            .v1_11, nodes: 3,
            configure: {
                $0.nodeStore = store; $0.pool.maximumConnections = 8
            }
        ) { cluster, client in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        try await client.withConnection { _ in try await Task.sleep(for: .milliseconds(200)) }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try client.pool(for: "client-tests").counts.idle == 8)
            // Before the fix: 8 writes, one per connection.
            #expect(store.writes.withLock { $0 } == 1)
            #expect(try await store.nodes().map(\.id).sorted() == [1, 2, 3])
            // The admin shares the client's discovery: it neither rediscovers nor rewrites the store.
            #expect(try await client.admin.cluster().count == 3)
            #expect(store.writes.withLock { $0 } == 1)
            _ = cluster
        }
    }
}
