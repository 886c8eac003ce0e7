import Testing

@testable import Dqlite

/// Defect 3 of the client-core issue: `pool(for:)` and `shutdown()` took two locks, so a pool created while the
/// client shut down was never shut down (its connections and waiters lived on).
@Suite("Client shutdown races pool creation")
struct ClientShutdownRaceTests {
    @Test("every pool created before or during shutdown() is shut down; none is created after")
    func poolsCreatedDuringShutdown() async throws {
        var leaked = 0
        var created = 0
        for round in 0..<300 {
            let client = DqliteClient(
                configuration: .init(nodes: [try DqliteNodeAddress("127.0.0.1:1")], database: "race-\(round)"))
            let pools = await withTaskGroup(of: ConnectionPool?.self) { group in
                for index in 0..<8 {
                    group.addTask { try? client.pool(for: "db-\(index)") }
                }
                group.addTask {
                    client.shutdown()
                    return nil
                }
                var pools: [ConnectionPool] = []
                for await pool in group { if let pool { pools.append(pool) } }
                return pools
            }
            created += pools.count
            leaked += pools.filter { !$0.isShutDown }.count
            // After shutdown no pool can be made.
            #expect(throws: DqliteError.self) { try client.pool(for: "after") }
        }
        #expect(leaked == 0, "\(leaked) of \(created) pools outlived shutdown()")
    }
}
