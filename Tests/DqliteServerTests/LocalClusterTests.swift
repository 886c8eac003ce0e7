import DqliteLocalCluster
import DqliteServer
import DqliteWire
import Testing

@Suite("Local cluster harness")
struct LocalClusterTests {
    @Test("a 3-node cluster forms with every node a voter", arguments: DqliteGeneration.allCases)
    func threeNodeClusterForms(_ generation: DqliteGeneration) async throws {
        let clock = ContinuousClock()
        var directory = ""
        var addresses: [String] = []
        let total = try await clock.measure {
            try await withLocalCluster(nodes: 3, generation: generation) { cluster in
                directory = cluster.directory
                addresses = cluster.addresses
                #expect(cluster.nodeIDs == [1, 2, 3])
                #expect(Set(cluster.addresses).count == 3)
                let members = try await cluster.members()
                #expect(members.map(\.id).sorted() == [1, 2, 3])
                #expect(members.allSatisfy { $0.role == 0 })
                for member in members {
                    #expect(member.address == cluster.addresses[Int(member.id) - 1])
                }
                let leader = try await cluster.leader()
                #expect(cluster.addresses.contains(leader.address))
                // Every node points at the same leader.
                for address in cluster.addresses {
                    #expect(try await askLeader(address) == .server(id: leader.id, address: leader.address))
                }
                switch generation {
                case .v1_11: #expect(cluster.serverVersion.hasPrefix("1.11"))
                case .v1_18: #expect(cluster.serverVersion.hasPrefix("1.18"))
                }
                print(
                    "TIMING \(generation) 3-node formation (start + join + all voters): "
                        + "\(milliseconds(cluster.formationDuration)); server \(cluster.serverVersion)")
            }
        }
        print("TIMING \(generation) 3-node cluster total (setup, formation, checks, teardown): \(milliseconds(total))")
        // Teardown removed the data and stopped every node.
        #expect(await !directoryExists(directory))
        for address in addresses {
            #expect(await isRefusingConnections(address))
        }
    }

    @Test("stop the leader: a new leader is elected; restart: all voters again", arguments: DqliteGeneration.allCases)
    func leaderFailoverAndRestart(_ generation: DqliteGeneration) async throws {
        try await withLocalCluster(nodes: 3, generation: generation) { cluster in
            let old = try await cluster.leader()
            let clock = ContinuousClock()
            let start = clock.now
            try await cluster.stop(node: old.id)
            #expect(!cluster.isRunning(node: old.id))
            let new = try await cluster.leader()
            let failover = clock.now - start
            #expect(new.id != old.id)
            try await cluster.restart(node: old.id)
            #expect(cluster.isRunning(node: old.id))
            try await cluster.waitUntilAllVoters()
            print("TIMING \(generation) leader failover (stop leader → new leader known): \(milliseconds(failover))")
        }
    }

    @Test("teardown happens when the body throws", arguments: DqliteGeneration.allCases)
    func teardownOnThrow(_ generation: DqliteGeneration) async throws {
        var directory = ""
        var addresses: [String] = []
        await #expect(throws: ExpectedFailure.self) {
            try await withLocalCluster(nodes: 2, generation: generation) { cluster in
                directory = cluster.directory
                addresses = cluster.addresses
                throw ExpectedFailure()
            }
        }
        #expect(!directory.isEmpty)
        #expect(await !directoryExists(directory))
        for address in addresses {
            #expect(await isRefusingConnections(address))
        }
    }

    @Test("a single-node cluster, and invalid node numbers")
    func singleNodeAndInvalidNodes() async throws {
        try await withLocalCluster(nodes: 1) { cluster in
            let leader = try await cluster.leaderAddress()
            #expect(leader == cluster.addresses[0])
            #expect(cluster.inProcessNode(1)?.isRunning == true)
            let error = await #expect(throws: LocalClusterError.self) { try await cluster.stop(node: 2) }
            #expect(error?.code == .invalidNode)
        }
        let error = await #expect(throws: LocalClusterError.self) {
            try await withLocalCluster(nodes: 0) { _ in }
        }
        #expect(error?.code == .invalidNode)
    }
}

@Suite("dqlite 1.18 availability")
struct Dqlite118AvailabilityTests {
    @Test("a missing dqlite118.sh is a clear generationUnavailable error, not a skip")
    func missingScript() throws {
        let error = #expect(throws: LocalClusterError.self) {
            _ = try Dqlite118Script.locate(filePath: "/nonexistent/Sources/DqliteLocalCluster/File.swift")
        }
        #expect(error?.code == .generationUnavailable)
        #expect(error?.message.contains("/nonexistent/scripts/dqlite118.sh") == true)
    }

    @Test("ready lines are parsed")
    func readyLine() {
        let line =
            "dqlite118: ready id=2 address=127.0.0.1:29002 pid=17618 libdqlite=1.18.7 "
            + "(Debian libdqlite0 1.18.7-1, forky)"
        let fields = Dqlite118Script.fields(of: line[...])
        #expect(fields["pid"] == "17618")
        #expect(fields["libdqlite"] == "1.18.7")
        #expect(fields["id"] == "2")
    }
}
