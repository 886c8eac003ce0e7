import Dqlite
import DqliteTestSupport
import DqliteWire
import Foundation
import Testing

/// Tests on clusters of separate processes — our `dqlite-node` executable and Debian's go-dqlite programs —
/// that kill nodes with signals or drive a cluster with another implementation. They spawn many processes,
/// so they run one at a time (other suites still run alongside).
@Suite("Process clusters: kill -9, rediscovery, go-dqlite interop", .serialized)
struct ProcessClusterTests {
    /// A query that keeps a node's event loop busy for minutes.
    static let endlessQuery = """
        WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5000000000) SELECT count(*) FROM c
        """

    @Test(
        "a node killed with SIGKILL mid-call: connectionClosed, outcome unknown, poisoned; discovery finds the new leader"
    )
    func killedMidCall() async throws {
        try await withProcessCluster(nodes: 3) { cluster in
            let discovery = DqliteLeaderDiscovery(
                seeds: try nodeAddresses(cluster.addresses), configuration: TestEnvironment.discovery())
            let connection = try await discovery.connectToLeader()
            let leaderID = try cluster.id(of: connection.address)
            try await connection.open("long.db")
            let clock = ContinuousClock()
            let started = clock.now
            let query = Task {
                try await connection.query(Self.endlessQuery, timeout: .seconds(60))
            }
            // Let the query run on the node for a while, then kill the node.
            try await Task.sleep(for: .milliseconds(700))
            let stillRunning = cluster.process(of: leaderID)?.isRunning == true
            #expect(stillRunning)
            let killedAt = clock.now
            await cluster.kill(node: leaderID)
            let result = await query.result
            let failedAt = clock.now
            guard case .failure(let thrown) = result else {
                Issue.record("the endless query returned \(result) instead of failing")
                return
            }
            let error = try #require(thrown as? DqliteError, "\(thrown)")
            print("killed mid-call: \(error.code), outcome \(error.outcome): \(error)")
            #expect(error.code == .connectionClosed, "\(error)")
            #expect(error.outcome == .unknown)
            #expect(error.node == connection.address.description)
            // The call was in flight until the kill, and failed as soon as the node died.
            #expect(killedAt - started >= .milliseconds(700))
            #expect(failedAt - killedAt < .seconds(5), "\(failedAt - killedAt)")
            // The connection is poisoned.
            #expect(!connection.isUsable)
            #expect(connection.poisonedBy?.code == .connectionClosed)
            let again = try await #require(throws: DqliteError.self) { try await connection.call(.leader) }
            #expect(again.code == .connectionPoisoned)
            await connection.close()

            // Discovery (which still has the dead node cached as leader) finds the new leader among the others.
            let newLeader = try await discovery.connectToLeader()
            #expect(newLeader.address != connection.address)
            #expect(cluster.addresses.contains(newLeader.address.description))
            let newID = try cluster.id(of: newLeader.address)
            #expect(try await newLeader.call(.leader) == .server(id: newID, address: newLeader.address.description))
            // The new leader serves SQL (the database survived, the query left nothing behind).
            try await newLeader.open("long.db")
            #expect(try await newLeader.query("SELECT 40 + 2") == [[.integer(42)]])
            await newLeader.close()
        }
    }

    @Test("leader rediscovery time after kill -9 of the leader (3 runs, printed)")
    func rediscoveryAfterKill() async throws {
        try await withProcessCluster(nodes: 3, latencyMilliseconds: 20) { cluster in
            print(
                "TIMING dqlite-node 3-process cluster formation (start, join, READY): \(seconds(cluster.formationDuration))"
            )
            // The library's default discovery settings, bounded at 15 s.
            let discovery = DqliteLeaderDiscovery(
                seeds: try nodeAddresses(cluster.addresses), configuration: .init(timeout: .seconds(15)))
            var figures: [Duration] = []
            for run in 1...3 {
                let before = try await discovery.connectToLeader()
                let oldLeader = before.address
                await before.close()
                let oldID = try cluster.id(of: oldLeader)

                let clock = ContinuousClock()
                let killedAt = clock.now
                let child = try #require(cluster.sendKill(node: oldID))
                #expect(await child.waitForExit(timeout: .seconds(5)))
                let connection = try await discovery.connectToLeader()
                let elapsed = clock.now - killedAt

                #expect(connection.address != oldLeader)
                let newID = try cluster.id(of: connection.address)
                #expect(
                    try await connection.call(.leader) == .server(id: newID, address: connection.address.description))
                await connection.close()
                figures.append(elapsed)
                print(
                    "leader rediscovery after kill -9: \(seconds(elapsed)) "
                        + "(run \(run): node \(oldID) killed, node \(newID) leads)")
                #expect(elapsed < .seconds(10))

                // Bring the killed node back on its data directory and wait until it follows the new leader.
                try await cluster.start(node: oldID, join: false)
                let restarted = try DqliteNodeAddress(cluster.address(of: oldID))
                try await eventually("node \(oldID) follows node \(newID)") {
                    try await DqliteConnection.withConnection(to: restarted) { try await $0.call(.leader) }
                        == .server(id: newID, address: connection.address.description)
                }
            }
            let sorted = figures.sorted()
            print(
                "leader rediscovery after kill -9 over \(sorted.count) runs: min \(seconds(sorted[0])), "
                    + "median \(seconds(sorted[sorted.count / 2])), max \(seconds(sorted[sorted.count - 1]))")
        }
    }

    @Test("dqlite-node on SIGTERM hands leadership to another voter, then stops; discovery finds that node")
    func handoverOnSIGTERM() async throws {
        try await withProcessCluster(nodes: 3) { cluster in
            let discovery = DqliteLeaderDiscovery(
                seeds: try nodeAddresses(cluster.addresses), configuration: TestEnvironment.discovery())
            let before = try await discovery.connectToLeader()
            let oldID = try cluster.id(of: before.address)
            await before.close()
            let child = try #require(cluster.process(of: oldID))
            let clock = ContinuousClock()
            let started = clock.now
            await child.terminate(grace: .seconds(20))
            let stopped = clock.now - started
            let log = child.output()
            #expect(child.exitStatus == 0, "\(log)")
            #expect(log.contains("STOPPING id=\(oldID) "), "\(log)")
            #expect(log.contains("STOPPED id=\(oldID)"), "\(log)")
            let marker = "HANDOVER id=\(oldID) leadership -> node "
            let line = try #require(log.split(separator: "\n").first { $0.hasPrefix(marker) }, "\(log)")
            let newID = try #require(UInt64(line.dropFirst(marker.count)))
            #expect(newID != oldID)
            print("dqlite-node SIGTERM of the leader: handover to node \(newID) and stop took \(seconds(stopped))")

            let connection = try await discovery.connectToLeader()
            #expect(try cluster.id(of: connection.address) == newID)
            await connection.close()
        }
    }

    @Test("a member restarted with its original command line (--join) comes back")
    func restartWithJoin() async throws {
        try await withProcessCluster(nodes: 3) { cluster in
            await cluster.kill(node: 3)
            // A service manager restarts the node with the same arguments, --join included. The node is a
            // member already, so joining must be a no-op; dqlite-node currently fails with
            // "FAILED … server role is not valid" (DqliteClusterAdmin.add re-sends ASSIGN voter to a voter).
            await #expect(throws: Never.self) {
                try await cluster.start(node: 3, join: true, timeout: .seconds(30))
            }
            #expect(cluster.process(of: 3)?.isRunning == true, "node 3 log:\n\(cluster.log(of: 3))")
            let admin = DqliteClusterAdmin(
                seeds: try nodeAddresses(cluster.addresses), configuration: TestEnvironment.admin())
            #expect(try await admin.cluster().filter { $0.role == .voter }.count == 3)
        }
    }
}
