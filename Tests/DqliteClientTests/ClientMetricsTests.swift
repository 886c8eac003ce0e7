import DqliteLocalCluster
import MetricsTestKit
import Testing

@testable import Dqlite

/// The client's metrics, through swift-metrics' test backend (``DqliteClient/Configuration/metricsFactory``,
/// so no process-wide bootstrap). Before this, every instrument carried the client's default database as its
/// only dimension (named `client`), whatever database a call used.
@Suite("Client metrics", .timeLimit(.minutes(2)))
struct ClientMetricsTests {
    @Test("calls, failures and durations are counted under the database each call used")
    func perDatabase() async throws {
        let metrics = TestMetrics()
        try await withClusterClient(.v1_11, configure: { $0.metricsFactory = metrics }) { _, client in
            let other = client.database("metrics-other")
            try await client.execute("CREATE TABLE t (x INTEGER)")
            try await client.execute("INSERT INTO t VALUES (1)")
            try await other.execute("CREATE TABLE u (y INTEGER)")
            _ = try await other.query("SELECT y FROM u").collect()
            _ = try await other.query("SELECT y FROM u").collect()
            await #expect(throws: DqliteError.self) { try await other.execute("INSERT INTO missing VALUES (1)") }

            let own = [("database", client.configuration.database)]
            let theirs = [("database", "metrics-other")]
            #expect(try metrics.expectCounter("dqlite_client_calls_total", own).totalValue == 2)
            #expect(try metrics.expectCounter("dqlite_client_calls_total", theirs).totalValue == 4)
            #expect(try metrics.expectCounter("dqlite_client_failures_total", theirs).totalValue == 1)
            #expect(
                (try? metrics.expectCounter("dqlite_client_failures_total", own).totalValue) ?? 0 == 0,
                "no call on the default database failed")
            #expect(try metrics.expectTimer("dqlite_client_call_duration", own).values.count == 2)
            #expect(try metrics.expectTimer("dqlite_client_call_duration", theirs).values.count == 4)
            #expect(try metrics.expectTimer("dqlite_client_pool_wait", theirs).values.count >= 4)
            #expect(
                !metrics.counters.contains { counter in counter.dimensions.contains { $0.0 == "client" } },
                "the old dimension named after the default database is gone")
        }
    }
}
