import Dqlite
import DqliteLocalCluster
import DqliteWire
import Foundation
import Testing

/// Failure paths that need no cluster: nodes that refuse connections and a node that accepts and never
/// answers. Every failure must come with a clear error, within its deadline.
@Suite("Failure paths: unreachable and silent nodes")
struct FailurePathTests {
    @Test("unreachable nodes: discovery fails with an aggregate error naming every node and \"refused\"")
    func unreachableNodes() async throws {
        // Reserved ports that nothing listens on: connecting is refused.
        let reservations = try await LoopbackPorts.reserve(count: 3)
        defer { reservations.forEach { $0.release() } }
        let addresses = reservations.map(\.address)
        let discovery = DqliteLeaderDiscovery(
            seeds: try nodeAddresses(addresses), configuration: TestEnvironment.discovery(timeout: .seconds(1)))
        let clock = ContinuousClock()
        let started = clock.now
        let error = try await #require(throws: DqliteError.self) { try await discovery.connectToLeader() }
        let elapsed = clock.now - started
        #expect(error.code == .noLeader)
        #expect(elapsed < .seconds(5))
        #expect(Set(error.attempts.map(\.address)) == Set(addresses))
        for attempt in error.attempts {
            #expect(attempt.outcome.contains("refused"), "\(attempt)")
        }
        let text = "\(error)"
        for address in addresses {
            #expect(text.contains(address), "\(text)")
        }
        #expect(text.contains("refused"), "\(text)")
        print("unreachable nodes: \(text)")

        // The admin API passes the same aggregate error on.
        let admin = DqliteClusterAdmin(
            seeds: try nodeAddresses(addresses),
            configuration: .init(discovery: TestEnvironment.discovery(timeout: .milliseconds(500))))
        let adminError = try await #require(throws: DqliteError.self) { try await admin.cluster() }
        #expect(adminError.code == .noLeader)
        #expect(Set(adminError.attempts.map(\.address)) == Set(addresses))
    }

    @Test("a corrupt node store file is reported by discovery, not taken for an empty store")
    func corruptNodeStore() async throws {
        try await withTemporaryDirectory("swift-dqlite-store") { directory in
            let path = directory.appendingPathComponent("nodes.json").path
            try "this is not a node list".write(toFile: path, atomically: true, encoding: .utf8)
            // The store itself refuses the file ...
            let storeError = try await #require(throws: DqliteError.self) {
                try await FileNodeStore(path: path).nodes()
            }
            #expect(storeError.code == .nodeStore)
            // ... but discovery swallows that error (`try? await store.nodes()`) and reports an empty store.
            let discovery = DqliteLeaderDiscovery(
                seeds: [], store: FileNodeStore(path: path),
                configuration: TestEnvironment.discovery(timeout: .seconds(1)))
            let error = try await #require(throws: DqliteError.self) { try await discovery.connectToLeader() }
            print("discovery with a corrupt node store: \(error.code): \(error)")
            #expect(error.code == .nodeStore, "\(error)")
            #expect("\(error)".contains(path), "\(error)")
        }
    }

    @Test("a node that accepts but never answers: the call fails at its deadline with a timeout error")
    func silentNode() async throws {
        let listener = try await SilentListener.start()
        do {
            let address = try DqliteNodeAddress(listener.address)
            let connection = try await DqliteConnection.connect(
                to: address, configuration: .init(connectTimeout: .seconds(2)))
            let clock = ContinuousClock()
            let started = clock.now
            let error = try await #require(throws: DqliteError.self) {
                try await connection.call(.leader, timeout: .milliseconds(500))
            }
            let elapsed = clock.now - started
            #expect(error.code == .timeout)
            #expect("\(error)".contains("timeout"), "\(error)")
            #expect(error.node == listener.address)
            #expect(error.outcome == .unknown)  // the request was sent
            #expect(elapsed >= .milliseconds(500) && elapsed < .seconds(3), "\(elapsed)")
            // The node did receive the handshake and the request (8 + 8 bytes): it just never answered.
            #expect(listener.accepted == 1)
            #expect(listener.bytesReceived >= 16)
            // The connection is poisoned: the next call fails at once.
            #expect(!connection.isUsable)
            let again = try await #require(throws: DqliteError.self) { try await connection.call(.leader) }
            #expect(again.code == .connectionPoisoned)
            await connection.close()

            // The configured default deadline applies when the call gives none.
            let defaulted = try await DqliteConnection.connect(
                to: address, configuration: .init(connectTimeout: .seconds(2), defaultCallTimeout: .milliseconds(300)))
            let start2 = clock.now
            let error2 = try await #require(throws: DqliteError.self) { try await defaulted.call(.cluster(format: 1)) }
            #expect(error2.code == .timeout)
            #expect(clock.now - start2 < .seconds(3))
            await defaulted.close()
        } catch {
            await listener.stop()
            throw error
        }
        await listener.stop()
    }

    @Test("discovery over a silent node and a refused one: bounded, and the error says timeout and refused")
    func discoveryWithSilentNode() async throws {
        let listener = try await SilentListener.start()
        let refused = try await LoopbackPorts.reserve(count: 1)
        defer { refused.forEach { $0.release() } }
        do {
            var configuration = TestEnvironment.discovery(timeout: .seconds(1))
            configuration.probeTimeout = .milliseconds(300)
            let discovery = DqliteLeaderDiscovery(
                seeds: try nodeAddresses([listener.address, refused[0].address]), configuration: configuration)
            let clock = ContinuousClock()
            let started = clock.now
            let error = try await #require(throws: DqliteError.self) { try await discovery.connectToLeader() }
            let elapsed = clock.now - started
            #expect(error.code == .noLeader)
            #expect(elapsed < .seconds(5), "\(elapsed)")
            let outcomes = Dictionary(error.attempts.map { ($0.address, $0.outcome) }, uniquingKeysWith: { $1 })
            #expect(outcomes[listener.address]?.contains("timeout") == true, "\(error)")
            #expect(outcomes[refused[0].address]?.contains("refused") == true, "\(error)")
        } catch {
            await listener.stop()
            throw error
        }
        await listener.stop()
    }
}

extension FailurePathTests {
    /// Runs `body` against a fresh silent listener; if it is still running after `watchdog`, the listener
    /// closes its connections, which unblocks a client stuck in a TLS handshake. Returns how long `body` took.
    func againstSilentListener(
        watchdog: Duration = .seconds(6), _ body: (DqliteNodeAddress) async throws -> Void
    ) async throws -> Duration {
        let listener = try await SilentListener.start()
        let rescue = Task {
            try await Task.sleep(for: watchdog)
            await listener.stop()
        }
        let clock = ContinuousClock()
        let started = clock.now
        do {
            try await body(try DqliteNodeAddress(listener.address))
        } catch {
            rescue.cancel()
            await listener.stop()
            throw error
        }
        let elapsed = clock.now - started
        rescue.cancel()
        await listener.stop()
        return elapsed
    }

    @Test("TLS to a node that accepts but never answers: connect and discovery end by their deadlines")
    func silentNodeOverTLS() async throws {
        let fixture = try await TLSFixture.make()
        do {
            let tls = try DqliteTLSConfiguration(
                caCertificateFile: fixture.caFile, certificateFile: fixture.clientCertificate,
                privateKeyFile: fixture.clientKey, serverName: TLSFixture.serverName)
            let configuration = DqliteConnection.Configuration(
                connectTimeout: .seconds(1), defaultCallTimeout: .seconds(1), tls: tls)

            // One connection: connectTimeout (1 s) and the call's deadline (1 s) should bound it.
            let connectElapsed = try await againstSilentListener { address in
                let error = await #expect(throws: DqliteError.self) {
                    let connection = try await DqliteConnection.connect(to: address, configuration: configuration)
                    defer { Task { await connection.close() } }
                    try await connection.call(.leader)
                }
                print("TLS connect to a silent node: \(error.map { "\($0)" } ?? "no error")")
            }
            print("TLS connect to a silent node took \(seconds(connectElapsed))")
            #expect(
                connectElapsed < .seconds(5),
                "DqliteConnection.connect waited \(connectElapsed) for a TLS handshake that never came: nothing bounds it"
            )

            // Leader discovery over TLS with a 1 s timeout.
            var discoveryConfiguration = TestEnvironment.discovery(timeout: .seconds(1))
            discoveryConfiguration.connection = configuration
            discoveryConfiguration.probeTimeout = .seconds(1)
            let discoveryElapsed = try await againstSilentListener { address in
                let discovery = DqliteLeaderDiscovery(seeds: [address], configuration: discoveryConfiguration)
                let error = await #expect(throws: DqliteError.self) { try await discovery.connectToLeader() }
                print("TLS discovery over a silent node: \(error.map { "\($0)" } ?? "no error")")
            }
            print("TLS discovery over a silent node took \(seconds(discoveryElapsed))")
            #expect(
                discoveryElapsed < .seconds(5),
                "connectToLeader (timeout 1 s) ran \(discoveryElapsed): a probe stuck in a TLS handshake is not bounded"
            )
        } catch {
            await fixture.stop()
            throw error
        }
        await fixture.stop()
    }
}
