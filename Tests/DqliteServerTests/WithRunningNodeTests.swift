import DqliteServer
import DqliteWire
import Testing

@Suite("DqliteNode.withRunningNode")
struct WithRunningNodeTests {
    @Test("returns the body's result and stops the node")
    func returnsAndStops() async throws {
        try await withScratch { directory, ports in
            let address = "127.0.0.1:\(ports[0])"
            var seen: DqliteNode?
            let value = try await DqliteNode.withRunningNode(id: 1, address: address, dataDirectory: directory) {
                node in
                seen = node
                #expect(node.state == .running)
                return 42
            }
            #expect(value == 42)
            #expect(seen?.state == .stopped)
            #expect(await isRefusingConnections(address))
        }
    }

    @Test("stops the node when the body throws, and rethrows the body's error")
    func cleansUpOnThrow() async throws {
        try await withScratch { directory, ports in
            let address = "127.0.0.1:\(ports[0])"
            var seen: DqliteNode?
            await #expect(throws: ExpectedFailure.self) {
                try await DqliteNode.withRunningNode(id: 1, address: address, dataDirectory: directory) { node in
                    seen = node
                    #expect(try await askLeader(address) == .server(id: 1, address: address))
                    throw ExpectedFailure()
                }
            }
            #expect(seen?.state == .stopped)
            #expect(await isRefusingConnections(address))
            // Data directory lock and port are free again.
            try await DqliteNode.withRunningNode(id: 1, address: address, dataDirectory: directory) { _ in }
        }
    }

    @Test("the body may stop the node itself")
    func bodyStopsNode() async throws {
        try await withScratch { directory, ports in
            try await DqliteNode.withRunningNode(
                id: 1, address: "127.0.0.1:\(ports[0])", dataDirectory: directory
            ) { node in
                try await node.stop()
            }
        }
    }

    @Test("a node that cannot be created throws and leaves nothing running")
    func creationFailure() async throws {
        try await withScratch { directory, _ in
            let error = await #expect(throws: DqliteNodeError.self) {
                try await DqliteNode.withRunningNode(id: 1, address: "[::1]:9001", dataDirectory: directory) { _ in
                    Issue.record("body must not run")
                }
            }
            #expect(error?.code == .invalidAddress)
        }
    }
}
