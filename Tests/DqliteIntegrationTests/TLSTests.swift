import DqliteLocalCluster
import DqliteServer
import DqliteWire
import Foundation
import Testing

@testable import Dqlite

/// TLS through stunnel4 (which requires and verifies client certificates) in front of an in-process
/// libdqlite 1.11.1 node that advertises the TLS address (it listens on another port, behind stunnel).
@Suite("TLS through a terminator")
struct TLSTests {
    /// The node, its TLS address (stunnel) and its plain address (where it really listens).
    struct Setup {
        let fixture: TLSFixture
        let tlsAddress: DqliteNodeAddress
        let plainAddress: DqliteNodeAddress
    }

    /// A fixture, a node advertising the stunnel port, and stunnel; all stopped afterwards.
    func withTLSNode(_ body: (Setup) async throws -> Void) async throws {
        let ports = try await LoopbackPorts.reserve(count: 2)
        defer { ports.forEach { $0.release() } }
        let fixture = try await TLSFixture.make()
        do {
            var options = DqliteNode.Options()
            options.bindAddress = ports[0].address
            options.networkLatency = .milliseconds(20)
            try await DqliteNode.withRunningNode(
                id: 1, address: ports[1].address, dataDirectory: fixture.directory.appendingPathComponent("node").path,
                options: options
            ) { node in
                #expect(node.address == ports[1].address)
                #expect(node.boundAddress == ports[0].address)
                try await fixture.startTerminator(acceptPort: Int(ports[1].port), target: ports[0].address)
                try await body(
                    Setup(
                        fixture: fixture, tlsAddress: try DqliteNodeAddress(ports[1].address),
                        plainAddress: try DqliteNodeAddress(ports[0].address)))
            }
        } catch {
            await fixture.stop()
            throw error
        }
        await fixture.stop()
    }

    static func connection(_ tls: DqliteTLSConfiguration?) -> DqliteConnection.Configuration {
        .init(connectTimeout: .seconds(5), defaultCallTimeout: .seconds(10), tls: tls)
    }

    @Test("the right client certificate and CA: LEADER, CLUSTER, SQL and leader discovery work through TLS")
    func tlsWorks() async throws {
        try await withTLSNode { setup in
            let tls = try DqliteTLSConfiguration(
                caCertificateFile: setup.fixture.caFile, certificateFile: setup.fixture.clientCertificate,
                privateKeyFile: setup.fixture.clientKey, serverName: TLSFixture.serverName)
            let configuration = Self.connection(tls)
            let advertised = setup.tlsAddress.description
            try await DqliteConnection.withConnection(to: setup.tlsAddress, configuration: configuration) {
                connection in
                #expect(try await connection.call(.leader) == .server(id: 1, address: advertised))
                #expect(
                    try await connection.call(.cluster(format: 1))
                        == .servers([NodeInfo(id: 1, address: advertised, role: 0)]))
                try await connection.open("tls.db")
                try await connection.exec("CREATE TABLE t (v TEXT)")
                try await connection.exec("INSERT INTO t VALUES (?)", [.text("over TLS")])
                #expect(try await connection.query("SELECT v FROM t") == [[.text("over TLS")]])
            }

            // The node advertises its TLS address, so discovery over TLS is confirmed by the node itself.
            var discoveryConfiguration = TestEnvironment.discovery(timeout: .seconds(10))
            discoveryConfiguration.connection = configuration
            let discovery = DqliteLeaderDiscovery(seeds: [setup.tlsAddress], configuration: discoveryConfiguration)
            let leader = try await discovery.connectToLeader()
            #expect(leader.address == setup.tlsAddress)
            #expect(leader.configuration.tls != nil)
            await leader.close()
            #expect(
                try await discovery.store.nodes() == [DqliteNodeInfo(id: 1, address: setup.tlsAddress, role: .voter)])

            let admin = DqliteClusterAdmin(
                seeds: [setup.tlsAddress],
                configuration: .init(discovery: discoveryConfiguration, requestTimeout: .seconds(10)))
            #expect(try await admin.leader() == DqliteNodeInfo(id: 1, address: setup.tlsAddress, role: .voter))
            #expect(try await admin.describe(node: setup.tlsAddress) == (0, 0))
            // stunnel saw and verified our client certificate.
            #expect(setup.fixture.stunnelLog.contains("CN=client"), "\(setup.fixture.stunnelLog)")

            // A client with a pool of TLS connections: one NIOSSLContext for all of them (it used to be built
            // for every connection, on the event loop).
            var clientConfiguration = DqliteClient.Configuration(
                nodes: [setup.tlsAddress], database: "tls.db", connection: configuration)
            clientConfiguration.discovery = discoveryConfiguration
            let client = DqliteClient(configuration: clientConfiguration)
            defer { client.shutdown() }
            let values = try await withThrowingTaskGroup(of: [String].self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        try await client.withConnection { session in
                            // Held a while, so the four run on four connections.
                            try await Task.sleep(for: .milliseconds(200))
                            return try await session.query("SELECT v FROM t").decode(String.self)
                        }
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(values == Array(repeating: "over TLS", count: 4))
            #expect(try client.pool(for: "tls.db").counts.idle == 4, "four pooled connections were made")
            #expect(tls.contextsBuilt == 1, "\(tls.contextsBuilt) TLS contexts were built")
        }
    }

    @Test("a client certificate the terminator does not trust: a TLS or connection error, never a hang")
    func rogueClientCertificate() async throws {
        try await withTLSNode { setup in
            let tls = try DqliteTLSConfiguration(
                caCertificateFile: setup.fixture.caFile, certificateFile: setup.fixture.rogueCertificate,
                privateKeyFile: setup.fixture.rogueKey, serverName: TLSFixture.serverName)
            let clock = ContinuousClock()
            let started = clock.now
            let error = try await #require(throws: DqliteError.self) {
                try await DqliteConnection.withConnection(to: setup.tlsAddress, configuration: Self.connection(tls)) {
                    try await $0.call(.leader, timeout: .seconds(8))
                }
            }
            let elapsed = clock.now - started
            print("rogue client certificate: \(error.code): \(error)")
            #expect([DqliteError.Code.tls, .connectionClosed, .connectFailed].contains(error.code), "\(error)")
            #expect(error.code != .timeout)
            #expect(elapsed < .seconds(5), "\(elapsed)")
            // It was stunnel's certificate check that refused it.
            #expect(
                setup.fixture.stunnelLog.lowercased().contains("certificate verify failed")
                    || setup.fixture.stunnelLog.lowercased().contains("rejected"), "\(setup.fixture.stunnelLog)")
        }
    }

    @Test("the wrong CA on the client side: a .tls error")
    func wrongCertificateAuthority() async throws {
        try await withTLSNode { setup in
            let tls = try DqliteTLSConfiguration(
                caCertificateFile: setup.fixture.rogueCA, certificateFile: setup.fixture.clientCertificate,
                privateKeyFile: setup.fixture.clientKey, serverName: TLSFixture.serverName)
            let clock = ContinuousClock()
            let started = clock.now
            let error = try await #require(throws: DqliteError.self) {
                try await DqliteConnection.withConnection(to: setup.tlsAddress, configuration: Self.connection(tls)) {
                    try await $0.call(.leader, timeout: .seconds(8))
                }
            }
            print("wrong CA: \(error.code): \(error)")
            #expect(error.code == .tls, "\(error)")
            #expect(clock.now - started < .seconds(5))

            // Discovery over TLS with the wrong CA reports the TLS failure for the node.
            var discoveryConfiguration = TestEnvironment.discovery(timeout: .milliseconds(500))
            discoveryConfiguration.connection = Self.connection(tls)
            let discovery = DqliteLeaderDiscovery(seeds: [setup.tlsAddress], configuration: discoveryConfiguration)
            let failure = try await #require(throws: DqliteError.self) { try await discovery.connectToLeader() }
            #expect(failure.code == .noLeader)
            #expect(failure.attempts.first?.outcome.lowercased().contains("tls") == true, "\(failure)")
        }
    }

    @Test("a server certificate that does not name the expected server: a .tls error")
    func wrongServerName() async throws {
        try await withTLSNode { setup in
            for serverName in ["not-the-server.test", nil] {
                // nil: the dialled IP address is checked, which the certificate does not name either.
                let tls = try DqliteTLSConfiguration(
                    caCertificateFile: setup.fixture.caFile, certificateFile: setup.fixture.clientCertificate,
                    privateKeyFile: setup.fixture.clientKey, serverName: serverName)
                let error = try await #require(throws: DqliteError.self) {
                    try await DqliteConnection.withConnection(to: setup.tlsAddress, configuration: Self.connection(tls))
                    {
                        try await $0.call(.leader, timeout: .seconds(8))
                    }
                }
                print("server name \(serverName ?? "nil (IP)"): \(error.code): \(error)")
                #expect(error.code == .tls, "\(error)")
            }
        }
    }

    @Test("plain TCP to the TLS port, and TLS to the plain port: errors, never a hang")
    func protocolMismatch() async throws {
        try await withTLSNode { setup in
            let clock = ContinuousClock()
            var started = clock.now
            let plain = try await #require(throws: DqliteError.self) {
                try await DqliteConnection.withConnection(to: setup.tlsAddress, configuration: Self.connection(nil)) {
                    try await $0.call(.leader, timeout: .seconds(8))
                }
            }
            #expect(plain.code == .connectionClosed || plain.code == .protocolViolation, "\(plain)")
            #expect(clock.now - started < .seconds(5))

            let tls = try DqliteTLSConfiguration(
                caCertificateFile: setup.fixture.caFile, certificateFile: setup.fixture.clientCertificate,
                privateKeyFile: setup.fixture.clientKey, serverName: TLSFixture.serverName)
            started = clock.now
            let mismatched = try await #require(throws: DqliteError.self) {
                try await DqliteConnection.withConnection(to: setup.plainAddress, configuration: Self.connection(tls)) {
                    try await $0.call(.leader, timeout: .seconds(3))
                }
            }
            print("TLS to a plain dqlite port: \(mismatched.code): \(mismatched)")
            #expect(mismatched.code != .server)
            #expect(clock.now - started < .seconds(5))
        }
    }
}
