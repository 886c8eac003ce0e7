import DqliteLocalCluster
import DqliteServer
import DqliteWire
import Testing

@Suite("DqliteNode lifecycle")
struct DqliteNodeLifecycleTests {
    @Test("start and stop: created → running → stopped, and the port is released")
    func startAndStop() async throws {
        try await withScratch { directory, ports in
            let address = "127.0.0.1:\(ports[0])"
            let node = try await DqliteNode(id: 1, address: address, dataDirectory: directory + "/node")
            #expect(node.state == .created)
            #expect(node.boundAddress == nil)
            #expect(node.address == address)
            #expect(node.bindAddress == address)

            let clock = ContinuousClock()
            let startTime = try await clock.measure { try await node.start() }
            #expect(node.state == .running)
            #expect(node.isRunning)
            #expect(node.boundAddress == address)
            #expect(try await askLeader(address) == .server(id: 1, address: address))

            let stopTime = try await clock.measure { try await node.stop() }
            #expect(node.state == .stopped)
            #expect(node.boundAddress == nil)
            #expect(await isRefusingConnections(address))
            print("TIMING in-process 1.11 node: start \(milliseconds(startTime)), stop \(milliseconds(stopTime))")
        }
    }

    @Test("start twice throws alreadyStarted; the node keeps running")
    func doubleStart() async throws {
        try await withScratch { directory, ports in
            let node = try await DqliteNode(id: 1, address: "127.0.0.1:\(ports[0])", dataDirectory: directory)
            try await node.start()
            let error = await #expect(throws: DqliteNodeError.self) { try await node.start() }
            #expect(error?.code == .alreadyStarted)
            #expect(error?.nodeID == 1)
            #expect(node.state == .running)
            try await node.stop()
        }
    }

    @Test("stop twice throws alreadyStopped; start after stop throws alreadyStopped")
    func doubleStop() async throws {
        try await withScratch { directory, ports in
            let node = try await DqliteNode(id: 1, address: "127.0.0.1:\(ports[0])", dataDirectory: directory)
            try await node.start()
            try await node.stop()
            let second = await #expect(throws: DqliteNodeError.self) { try await node.stop() }
            #expect(second?.code == .alreadyStopped)
            let restart = await #expect(throws: DqliteNodeError.self) { try await node.start() }
            #expect(restart?.code == .alreadyStopped)
            #expect(node.state == .stopped)
        }
    }

    @Test("stop of a node that was never started releases it and its data directory")
    func stopUnstarted() async throws {
        try await withScratch { directory, ports in
            let address = "127.0.0.1:\(ports[0])"
            let node = try await DqliteNode(id: 1, address: address, dataDirectory: directory)
            try await node.stop()
            #expect(node.state == .stopped)
            // The directory lock and the bound socket are gone: the same directory and port work again.
            let again = try await DqliteNode(id: 1, address: address, dataDirectory: directory)
            try await again.start()
            try await again.stop()
        }
    }

    @Test("a stopped node restarts from its data directory with a new DqliteNode")
    func restartFromDataDirectory() async throws {
        try await withScratch { directory, ports in
            let address = "127.0.0.1:\(ports[0])"
            let first = try await DqliteNode(id: 1, address: address, dataDirectory: directory)
            try await first.start()
            try await first.stop()
            let second = try await DqliteNode(id: 1, address: address, dataDirectory: directory)
            try await second.start()
            #expect(try await askLeader(address) == .server(id: 1, address: address))
            try await second.stop()
        }
    }

    @Test("deinit of a running node stops and destroys it (last resort)")
    func deinitStopsRunningNode() async throws {
        try await withScratch { directory, ports in
            let address = "127.0.0.1:\(ports[0])"
            do {
                let node = try await DqliteNode(id: 1, address: address, dataDirectory: directory)
                try await node.start()
                #expect(try await askLeader(address) == .server(id: 1, address: address))
            }
            // The last reference is gone: deinit stopped the node synchronously.
            #expect(await isRefusingConnections(address))
            let again = try await DqliteNode(id: 1, address: address, dataDirectory: directory)
            try await again.start()
            try await again.stop()
        }
    }

    @Test("deinit of a created node releases it")
    func deinitReleasesCreatedNode() async throws {
        try await withScratch { directory, ports in
            let address = "127.0.0.1:\(ports[0])"
            do {
                let node = try await DqliteNode(id: 1, address: address, dataDirectory: directory)
                #expect(node.state == .created)
            }
            let again = try await DqliteNode(id: 1, address: address, dataDirectory: directory)
            try await again.start()
            try await again.stop()
        }
    }

    @Test("a started node answers LEADER and CLUSTER with itself")
    func answersLeaderAndCluster() async throws {
        try await withScratch { directory, ports in
            let address = "127.0.0.1:\(ports[0])"
            try await DqliteNode.withRunningNode(id: 1, address: address, dataDirectory: directory) { _ in
                let leader = try await ask(.leader, at: address)
                let members = try await ask(.cluster(format: 1), at: address)
                #expect(leader == .server(id: 1, address: address))
                #expect(members == .servers([NodeInfo(id: 1, address: address, role: 0)]))
            }
        }
    }

    @Test("options are applied: latency, snapshot parameters, failure domain (DESCRIBE reports it)")
    func optionsApplied() async throws {
        try await withScratch { directory, ports in
            let address = "127.0.0.1:\(ports[0])"
            let options = DqliteNode.Options(
                networkLatency: .milliseconds(20), snapshotThreshold: 512, snapshotTrailing: 4096,
                failureDomain: 7)
            try await DqliteNode.withRunningNode(
                id: 1, address: address, dataDirectory: directory, options: options
            ) { node in
                #expect(node.options == options)
                let metadata = try await ask(.describe(format: 0), at: address)
                #expect(metadata == .metadata(failureDomain: 7, weight: 0))
            }
        }
    }
}
