import Dqlite
import DqliteLocalCluster
import DqliteWire
import Foundation
import Testing

/// The cluster layer — leader discovery and every admin call — against real 1- and 3-node clusters of both
/// server generations (libdqlite 1.11.1 in-process, libdqlite 1.18.7 through dqlite118.sh).
@Suite("Cluster admin and discovery against real clusters")
struct ClusterAdminTests {
    /// The members a formed LocalCluster must have: ids 1…N, their addresses, all voters.
    static func expectedMembers(_ cluster: LocalCluster) throws -> Set<DqliteNodeInfo> {
        Set(
            try cluster.nodeIDs.map {
                DqliteNodeInfo(id: $0, address: try DqliteNodeAddress(cluster.address(of: $0)), role: .voter)
            })
    }

    @Test(
        "1 node: leader, cluster, cluster(asSeenBy:), describe, setWeight, dump opens in sqlite3",
        arguments: DqliteGeneration.allCases)
    func oneNode(_ generation: DqliteGeneration) async throws {
        try await withLocalCluster(nodes: 1, generation: generation) { cluster in
            let node = try DqliteNodeAddress(cluster.addresses[0])
            let admin = DqliteClusterAdmin(seeds: [node], configuration: TestEnvironment.admin())
            let only = DqliteNodeInfo(id: 1, address: node, role: .voter)

            #expect(try await admin.leader() == only)
            #expect(try await admin.cluster() == [only])
            #expect(try await admin.cluster(asSeenBy: node) == [only])

            let before = try await admin.describe(node: node)
            #expect(before.failureDomain == 0)
            #expect(before.weight == 0)
            try await admin.setWeight(42, node: node)
            let after = try await admin.describe(node: node)
            #expect(after.weight == 42)
            #expect(after.failureDomain == before.failureDomain)

            // Rows written through the wire API, then DUMP from the leader (the node is nil).
            let discovery = DqliteLeaderDiscovery(seeds: [node], configuration: TestEnvironment.discovery())
            let connection = try await discovery.connectToLeader()
            do {
                try await connection.open("dumped.db")
                try await connection.exec("CREATE TABLE fruit (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
                #expect(
                    try await connection.exec(
                        "INSERT INTO fruit (name) VALUES (?), (?)", [.text("apple"), .text("pear")]) == 2)
                await connection.close()
            } catch {
                await connection.close()
                throw error
            }
            let files = try await admin.dump(database: "dumped.db")
            // 1.11.1 sends the main file and its WAL (the rows are in the WAL); 1.18.7 checkpoints first
            // and sends an empty WAL. Both name the files `<database>` and `<database>-wal`.
            #expect(files.map(\.name) == ["dumped.db", "dumped.db-wal"])
            #expect(files.first?.data.starts(with: Array("SQLite format 3\0".utf8)) == true)
            switch generation {
            case .v1_11: #expect(files.last?.data.isEmpty == false)
            case .v1_18: #expect(files.last?.data.isEmpty == true)
            }
            try await withTemporaryDirectory("swift-dqlite-dump") { directory in
                let output = try await querySQLite(
                    dump: files, in: directory,
                    "PRAGMA integrity_check; SELECT id || '|' || name FROM fruit ORDER BY id;")
                #expect(output == "ok\n1|apple\n2|pear\n")
            }
        }
    }

    @Test(
        "3 nodes: discovery through a follower, admin reads on a follower, transfer and rediscovery",
        arguments: DqliteGeneration.allCases)
    func threeNodes(_ generation: DqliteGeneration) async throws {
        try await withLocalCluster(nodes: 3, generation: generation) { cluster in
            print("TIMING \(generation) 3-node LocalCluster formation: \(seconds(cluster.formationDuration))")
            let expected = try Self.expectedMembers(cluster)
            // The harness's own client (ClusterFormation, over DqliteConnection) is the oracle for who leads.
            let leader = try await cluster.leader()
            let followers = cluster.nodeIDs.filter { $0 != leader.id }
            let follower = try DqliteNodeAddress(cluster.address(of: followers[0]))
            let otherFollower = try DqliteNodeAddress(cluster.address(of: followers[1]))
            let leaderAddress = try DqliteNodeAddress(leader.address)

            // Discovery seeded with one follower only: it follows the redirect and the leader confirms itself.
            let discovery = DqliteLeaderDiscovery(seeds: [follower], configuration: TestEnvironment.discovery())
            let connection = try await discovery.connectToLeader()
            #expect(connection.address == leaderAddress)
            #expect(try await connection.call(.leader) == .server(id: leader.id, address: leader.address))
            await connection.close()
            #expect(discovery.lastKnownLeader == leaderAddress)
            // ... and refreshed its node store from the leader's CLUSTER answer.
            #expect(Set(try await discovery.store.nodes()) == expected)

            let admin = DqliteClusterAdmin(seeds: [follower], configuration: TestEnvironment.admin())
            #expect(try await admin.leader() == DqliteNodeInfo(id: leader.id, address: leaderAddress, role: .voter))
            #expect(Set(try await admin.cluster()) == expected)
            #expect(Set(try await admin.cluster(asSeenBy: follower)) == expected)

            // DESCRIBE and WEIGHT go to the node named, not to the leader.
            #expect(try await admin.describe(node: follower) == (0, 0))
            try await admin.setWeight(7, node: follower)
            #expect(try await admin.describe(node: follower) == (0, 7))
            #expect(try await admin.describe(node: otherFollower).weight == 0)
            #expect(try await admin.describe(node: leaderAddress).weight == 0)

            // A discovery that knows the old leader (cached) ...
            let cached = DqliteLeaderDiscovery(
                seeds: try nodeAddresses(cluster.addresses), configuration: TestEnvironment.discovery())
            await (try await cached.connectToLeader()).close()
            #expect(cached.lastKnownLeader == leaderAddress)

            // Transfer to a chosen follower; confirmed by the admin.
            let target = followers[1]
            let moved = try await admin.transferLeadership(to: target)
            #expect(moved == DqliteNodeInfo(id: target, address: otherFollower, role: .voter))
            #expect(try await cluster.leader().id == target)

            // Rediscovery: the cached discovery drops the old leader and returns the new one ...
            let again = try await cached.connectToLeader()
            #expect(again.address == otherFollower)
            #expect(try await again.call(.leader) == .server(id: target, address: otherFollower.description))
            await again.close()
            // ... and a fresh discovery seeded with the old leader only follows it to the new one.
            let fresh = DqliteLeaderDiscovery(seeds: [leaderAddress], configuration: TestEnvironment.discovery())
            let viaOld = try await fresh.connectToLeader()
            #expect(viaOld.address == otherFollower)
            await viaOld.close()
            #expect(try await admin.leader().id == target)
            #expect(Set(try await admin.cluster()) == expected)

            // DUMP from a follower (any node can answer): it has the replicated rows.
            let writer = try await fresh.connectToLeader()
            do {
                try await writer.open("replicated.db")
                try await writer.exec("CREATE TABLE r (v INTEGER)")
                try await writer.exec("INSERT INTO r VALUES (1), (2), (3)")
                await writer.close()
            } catch {
                await writer.close()
                throw error
            }
            try await eventually("a follower's DUMP has the three rows") {
                let files = try await admin.dump(database: "replicated.db", from: follower)
                return try await withTemporaryDirectory("swift-dqlite-dump") { directory in
                    try await querySQLite(dump: files, in: directory, "SELECT sum(v) FROM r;") == "6\n"
                }
            }
        }
    }

    @Test(
        "quorum loss: discovery fails with .noQuorum and names every node; a restarted node restores a leader",
        arguments: DqliteGeneration.allCases)
    func quorumLoss(_ generation: DqliteGeneration) async throws {
        try await withLocalCluster(nodes: 3, generation: generation) { cluster in
            let leader = try await cluster.leader()
            let followers = cluster.nodeIDs.filter { $0 != leader.id }
            try await cluster.stop(node: leader.id)
            try await cluster.stop(node: followers[0])
            let survivor = try cluster.address(of: followers[1])
            let seeds = try nodeAddresses(cluster.addresses)

            // A stopping 1.18 node hands leadership over, so the survivor may briefly be a leader without a
            // quorum (it answers LEADER with itself until raft's quorum check makes it step down): search again
            // until that window has passed.
            var lastError: DqliteError?
            let clock = ContinuousClock()
            let giveUp = clock.now + .seconds(15)
            while clock.now < giveUp {
                let discovery = DqliteLeaderDiscovery(
                    seeds: seeds, configuration: TestEnvironment.discovery(timeout: .seconds(3)))
                do {
                    let connection = try await discovery.connectToLeader()
                    await connection.close()
                    try await Task.sleep(for: .milliseconds(200))
                } catch let error as DqliteError {
                    lastError = error
                    break
                }
            }
            let error = try #require(lastError, "a leader without quorum never stepped down")
            print("quorum loss (\(generation)): \(error)")
            #expect(error.code == .noQuorum, "\(error)")
            #expect(Set(error.attempts.map(\.address)) == Set(cluster.addresses))
            for attempt in error.attempts {
                if attempt.address == survivor {
                    #expect(attempt.outcome == "no leader known", "\(attempt)")
                } else {
                    #expect(attempt.outcome.contains("refused"), "\(attempt)")
                }
            }
            #expect("\(error)".contains("no quorum"))

            // One more voter back: a leader again, found by the same discovery.
            try await cluster.restart(node: followers[0])
            let running = Set(cluster.runningAddresses)
            let recovered = DqliteLeaderDiscovery(
                seeds: seeds, configuration: TestEnvironment.discovery(timeout: .seconds(20)))
            let connection = try await recovered.connectToLeader()
            #expect(running.contains(connection.address.description))
            await connection.close()
        }
    }

    @Test(
        "membership: a 4th node joins as standby, becomes a voter, is removed and added again",
        arguments: DqliteGeneration.allCases)
    func membership(_ generation: DqliteGeneration) async throws {
        try await withLocalCluster(nodes: 3, generation: generation) { cluster in
            let original = try Self.expectedMembers(cluster)
            try await withStandaloneNode(id: 4, generation: generation, failureDomain: 7) { node in
                let fourth = try DqliteNodeAddress(node.address)
                let admin = DqliteClusterAdmin(
                    seeds: try nodeAddresses(cluster.addresses), configuration: TestEnvironment.admin())

                // DESCRIBE reports the failure domain the node was started with (1.11: 7; 1.18: 0).
                #expect(try await admin.describe(node: fourth) == (node.failureDomain, 0))

                try await admin.add(id: 4, address: fourth, role: .standby)
                let standby = DqliteNodeInfo(id: 4, address: fourth, role: .standby)
                #expect(Set(try await admin.cluster()) == original.union([standby]))

                try await admin.assign(id: 4, role: .voter)
                let voter = DqliteNodeInfo(id: 4, address: fourth, role: .voter)
                #expect(Set(try await admin.cluster()) == original.union([voter]))
                // The new voter replicates the configuration: it answers CLUSTER with the same members.
                try await eventually("node 4 lists 4 voters") {
                    Set(try await admin.cluster(asSeenBy: fourth)) == original.union([voter])
                }

                // Remove / add round trip.
                try await admin.remove(id: 4)
                #expect(Set(try await admin.cluster()) == original)
                try await admin.add(id: 4, address: fourth, role: .voter)
                #expect(Set(try await admin.cluster()) == original.union([voter]))
                try await eventually("node 4 lists 4 voters after the round trip") {
                    Set(try await admin.cluster(asSeenBy: fourth)) == original.union([voter])
                }
                // Remove it again so that the cluster's own teardown finds only its three nodes.
                try await admin.remove(id: 4)
                #expect(Set(try await admin.cluster()) == original)
            }
        }
    }

    @Test(
        "a FileNodeStore keeps the members: a new discovery finds the leader after its only seed is gone",
        arguments: DqliteGeneration.allCases)
    func fileNodeStore(_ generation: DqliteGeneration) async throws {
        try await withLocalCluster(nodes: 3, generation: generation) { cluster in
            try await withTemporaryDirectory("swift-dqlite-store") { directory in
                let path = directory.appendingPathComponent("nodes.json").path
                let leader = try await cluster.leader()
                let seed = try DqliteNodeAddress(leader.address)
                let first = DqliteLeaderDiscovery(
                    seeds: [seed], store: FileNodeStore(path: path), configuration: TestEnvironment.discovery())
                await (try await first.connectToLeader()).close()
                #expect(Set(try await FileNodeStore(path: path).nodes()) == (try Self.expectedMembers(cluster)))

                // The seed (the leader) goes away; a new client with the same seed list and the same file.
                try await cluster.stop(node: leader.id)
                let second = DqliteLeaderDiscovery(
                    seeds: [seed], store: FileNodeStore(path: path), configuration: TestEnvironment.discovery())
                let connection = try await second.connectToLeader()
                #expect(connection.address != seed)
                #expect(cluster.runningAddresses.contains(connection.address.description))
                await connection.close()
            }
        }
    }

    @Test(
        "add() of a member that already has that address and role succeeds (idempotent join)",
        arguments: DqliteGeneration.allCases)
    func addExistingMemberIsIdempotent(_ generation: DqliteGeneration) async throws {
        try await withLocalCluster(nodes: 1, generation: generation) { cluster in
            let node = try DqliteNodeAddress(cluster.addresses[0])
            let admin = DqliteClusterAdmin(seeds: [node], configuration: TestEnvironment.admin(timeout: .seconds(5)))
            // DqliteClusterAdmin.add skips ADD for an existing member but still sends ASSIGN with the role the
            // member already has, which the server refuses ("server role is not valid").
            await #expect(throws: Never.self) {
                try await admin.add(id: 1, address: node, role: .voter)
            }
            #expect(try await admin.cluster() == [DqliteNodeInfo(id: 1, address: node, role: .voter)])
        }
    }
}

/// Polls `check` (errors count as "not yet") until it holds; fails with `what` after `timeout`.
func eventually(
    _ what: String, timeout: Duration = .seconds(15), isolation: isolated (any Actor)? = #isolation,
    _ check: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    var lastError: (any Error)?
    while ContinuousClock.now < deadline {
        do {
            if try await check() { return }
        } catch {
            lastError = error
        }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw TestFailure(
        description: "not true within \(timeout): \(what)\(lastError.map { " (last error: \($0))" } ?? "")")
}
