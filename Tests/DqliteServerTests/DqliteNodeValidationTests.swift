import DqliteLocalCluster
import DqliteServer
import DqliteWire
import Testing

@Suite("DqliteNode input validation")
struct DqliteNodeValidationTests {
    static let badAddresses: [String] = [
        "", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:+80",
        "127.0.0.1:80a", "127.0.0.1:123456", ":9001", "[::1]:9001", "::1:9001", "1.2.3:9001", "256.1.1.1:9001",
        "host name:9001", "a..b:9001", "-bad-.example:9001", "@", "/run/dqlite.sock", "127.0.0.1:9001\u{0}",
        "bad\u{7}host:9001", String(repeating: "a", count: 300) + ":9001", "@" + String(repeating: "x", count: 107),
    ]

    @Test("bad advertised addresses throw invalidAddress before anything is created", arguments: badAddresses)
    func badAddress(_ address: String) async throws {
        try await withScratch { directory, _ in
            let dataDirectory = directory + "/never-created"
            let error = await #expect(throws: DqliteNodeError.self) {
                _ = try await DqliteNode(id: 1, address: address, dataDirectory: dataDirectory)
            }
            #expect(error?.code == .invalidAddress)
            #expect(await !directoryExists(dataDirectory))
        }
    }

    @Test("bad bind addresses throw invalidAddress", arguments: ["[::1]:9001", "127.0.0.1:0", "x:y", "/tmp/s"])
    func badBindAddress(_ bind: String) async throws {
        try await withScratch { directory, ports in
            let error = await #expect(throws: DqliteNodeError.self) {
                _ = try await DqliteNode(
                    id: 1, address: "127.0.0.1:\(ports[0])", dataDirectory: directory,
                    options: DqliteNode.Options(bindAddress: bind))
            }
            #expect(error?.code == .invalidAddress)
        }
    }

    @Test("node id 0 throws invalidNodeID")
    func zeroID() async throws {
        try await withScratch { directory, ports in
            let error = await #expect(throws: DqliteNodeError.self) {
                _ = try await DqliteNode(id: 0, address: "127.0.0.1:\(ports[0])", dataDirectory: directory)
            }
            #expect(error?.code == .invalidNodeID)
        }
    }

    @Test("localhost:PORT is resolved to 127.0.0.1 before libdqlite sees it")
    func localhostResolves() async throws {
        try await withScratch { directory, ports in
            let port = ports[0]
            try await DqliteNode.withRunningNode(id: 1, address: "localhost:\(port)", dataDirectory: directory) {
                node in
                #expect(node.address == "127.0.0.1:\(port)")
                #expect(node.bindAddress == "127.0.0.1:\(port)")
                let leader = try await askLeader("127.0.0.1:\(port)")
                #expect(leader == .server(id: 1, address: "127.0.0.1:\(port)"))
            }
        }
    }

    @Test("an unresolvable name throws addressResolutionFailed")
    func unresolvableName() async throws {
        try await withScratch { directory, _ in
            let error = await #expect(throws: DqliteNodeError.self) {
                _ = try await DqliteNode(id: 1, address: "no-such-host.invalid:9001", dataDirectory: directory)
            }
            #expect(error?.code == .addressResolutionFailed)
            #expect(error?.operation == .resolveAddress)
        }
    }

    @Test("a separate bind address: listens there, advertises the node address")
    func separateBindAddress() async throws {
        try await withScratch(ports: 2) { directory, ports in
            let advertised = "127.0.0.1:\(ports[0])"
            let options = DqliteNode.Options(bindAddress: "localhost:\(ports[1])")
            try await DqliteNode.withRunningNode(
                id: 1, address: advertised, dataDirectory: directory, options: options
            ) { node in
                #expect(node.bindAddress == "127.0.0.1:\(ports[1])")
                #expect(node.boundAddress == "127.0.0.1:\(ports[1])")
                let leader = try await askLeader("127.0.0.1:\(ports[1])")
                #expect(leader == .server(id: 1, address: advertised))
                #expect(await isRefusingConnections(advertised))
            }
        }
    }

    @Test("bind address \"@\" picks an abstract Unix socket that answers in-process")
    func automaticAbstractSocket() async throws {
        try await withScratch { directory, ports in
            let advertised = "127.0.0.1:\(ports[0])"
            let options = DqliteNode.Options(bindAddress: "@")
            try await DqliteNode.withRunningNode(
                id: 1, address: advertised, dataDirectory: directory, options: options
            ) { node in
                let bound = try #require(node.boundAddress)
                #expect(bound.hasPrefix("@") && bound.count > 1)
                #expect(try await askLeader(bound) == .server(id: 1, address: advertised))
            }
        }
    }

    @Test("out-of-range options throw invalidOption")
    func invalidOptions() async throws {
        let cases: [DqliteNode.Options] = [
            DqliteNode.Options(networkLatency: .zero),
            DqliteNode.Options(networkLatency: .microseconds(400)),
            DqliteNode.Options(networkLatency: .seconds(3601)),
            DqliteNode.Options(networkLatency: .milliseconds(-5)),
            DqliteNode.Options(snapshotThreshold: 0),
        ]
        try await withScratch { directory, ports in
            for options in cases {
                let error = await #expect(throws: DqliteNodeError.self) {
                    _ = try await DqliteNode(
                        id: 1, address: "127.0.0.1:\(ports[0])", dataDirectory: directory, options: options)
                }
                #expect(error?.code == .invalidOption, "\(options)")
            }
        }
    }

    @Test("a libdqlite refusal becomes a typed error with operation, rc and rc name")
    func libdqliteReturnCode() async throws {
        try await withScratch { directory, ports in
            // libdqlite 1.11.1 wants snapshot trailing > threshold and says DQLITE_MISUSE, with no message.
            let options = DqliteNode.Options(snapshotThreshold: 100, snapshotTrailing: 10)
            let error = await #expect(throws: DqliteNodeError.self) {
                _ = try await DqliteNode(
                    id: 1, address: "127.0.0.1:\(ports[0])", dataDirectory: directory, options: options)
            }
            #expect(error?.code == .libdqlite)
            #expect(error?.operation == .setSnapshotParameters)
            #expect(error?.returnCode == 2)
            #expect(error?.returnCodeName == "DQLITE_MISUSE")
            #expect(error?.message.isEmpty == false)
            // The failed node was destroyed and its directory lock released.
            let node = try await DqliteNode(id: 1, address: "127.0.0.1:\(ports[0])", dataDirectory: directory)
            try await node.stop()
        }
    }

    @Test("a port in use fails at dqlite_node_set_bind_address with DQLITE_ERROR")
    func portInUse() async throws {
        try await withScratch(ports: 1) { directory, ports in
            let address = "127.0.0.1:\(ports[0])"
            try await DqliteNode.withRunningNode(id: 1, address: address, dataDirectory: directory + "/a") { _ in
                let error = await #expect(throws: DqliteNodeError.self) {
                    _ = try await DqliteNode(id: 2, address: address, dataDirectory: directory + "/b")
                }
                #expect(error?.code == .libdqlite)
                #expect(error?.operation == .setBindAddress)
                #expect(error?.returnCodeName == "DQLITE_ERROR")
            }
        }
    }

    @Test("return code names follow dqlite.h and raft.h")
    func returnCodeNames() {
        #expect(DqliteNodeError.name(ofReturnCode: 1) == "DQLITE_ERROR")
        #expect(DqliteNodeError.name(ofReturnCode: 2) == "DQLITE_MISUSE")
        #expect(DqliteNodeError.name(ofReturnCode: 3) == "DQLITE_NOMEM")
        #expect(DqliteNodeError.name(ofReturnCode: 4) == "RAFT_DUPLICATEADDRESS")
        #expect(DqliteNodeError.name(ofReturnCode: 19) == "RAFT_NOTFOUND")
        #expect(DqliteNodeError.name(ofReturnCode: 20) == "RAFT_INVALID")
        #expect(DqliteNodeError.name(ofReturnCode: 24) == "RAFT_RETRY")
        #expect(DqliteNodeError.name(ofReturnCode: 0) == nil)
        #expect(DqliteNodeError.name(ofReturnCode: 25) == nil)
        #expect(DqliteNodeError.name(ofReturnCode: -1) == nil)
    }
}
