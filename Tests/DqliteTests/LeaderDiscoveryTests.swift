import Dqlite
import DqliteWire
import NIOConcurrencyHelpers
import Testing

/// Leader discovery against scripted nodes: redirects, confirmation, hostile redirects, quorum loss, the
/// aggregate error, the cached leader and the node store refresh.
@Suite("Leader discovery against scripted nodes")
struct LeaderDiscoveryTests {
    /// A scripted node that knows its own address once started.
    final class Node: Sendable {
        let server: FakeServer
        let address: DqliteNodeAddress
        init(_ server: FakeServer) throws {
            self.server = server
            self.address = try DqliteNodeAddress(server.address)
        }
        var leaderRequests: Int { server.received.filter { $0 == .leader }.count }
    }

    /// Starts a node whose LEADER answer is computed from its own address (set after binding).
    static func node(
        leader: @escaping @Sendable (String) -> Response,
        cluster: @escaping @Sendable (String) -> [NodeInfo] = { [NodeInfo(id: 1, address: $0, role: 0)] }
    ) async throws -> Node {
        let own = NIOLockedValueBox("")
        let server = try await FakeServer.start { request in
            let me = own.withLockedValue { $0 }
            switch request {
            case .leader: return .responses([leader(me)])
            case .cluster: return .responses([.servers(cluster(me))])
            default: return .responses([.failure(code: 1, message: "unexpected")])
            }
        }
        own.withLockedValue { $0 = server.address }
        return try Node(server)
    }

    /// Discovery settings for scripted nodes. The probe timeout is what a silent node costs; it is generous
    /// (1 s) so that a node that does answer is never taken for a silent one on a loaded machine.
    static func configuration(timeout: Duration = .seconds(2), probeTimeout: Duration = .seconds(1))
        -> DqliteLeaderDiscovery.Configuration
    {
        .init(
            connection: .init(connectTimeout: .seconds(2)), probeTimeout: probeTimeout, timeout: timeout,
            backoffBase: .milliseconds(20), backoffCap: .milliseconds(100))
    }

    @Test("a node that names itself is the leader")
    func selfLeader() async throws {
        let a = try await Self.node(leader: { .server(id: 1, address: $0) })
        let discovery = DqliteLeaderDiscovery(seeds: [a.address], configuration: Self.configuration())
        let connection = try await discovery.connectToLeader()
        #expect(connection.address == a.address)
        #expect(discovery.lastKnownLeader == a.address)
        await connection.close()
        await a.server.stop()
    }

    @Test("one redirect is followed and the target must confirm itself")
    func redirect() async throws {
        let b = try await Self.node(leader: { .server(id: 2, address: $0) })
        let bAddress = b.server.address
        let a = try await Self.node(leader: { _ in .server(id: 2, address: bAddress) })
        let discovery = DqliteLeaderDiscovery(seeds: [a.address], configuration: Self.configuration())
        let connection = try await discovery.connectToLeader()
        #expect(connection.address == b.address)
        await connection.close()
        await a.server.stop()
        await b.server.stop()
    }

    @Test("a redirect to a node that does not confirm is not trusted")
    func unconfirmedRedirect() async throws {
        let c = try await Self.node(leader: { _ in .server(id: 0, address: "") })
        let cAddress = c.server.address
        let b = try await Self.node(leader: { _ in .server(id: 3, address: cAddress) })
        let bAddress = b.server.address
        let a = try await Self.node(leader: { _ in .server(id: 2, address: bAddress) })
        let discovery = DqliteLeaderDiscovery(
            seeds: [a.address], configuration: Self.configuration(timeout: .seconds(1)))
        let error = try await #require(throws: DqliteError.self) { try await discovery.connectToLeader() }
        #expect(error.code == .noLeader)
        #expect(error.attempts.contains { $0.address == a.server.address && $0.outcome.contains("did not confirm") })
        for node in [a, b, c] { await node.server.stop() }
    }

    @Test(
        "redirects to unspecified or malformed addresses are never dialled",
        arguments: ["0.0.0.0:9001", "[::]:9001", "nonsense", "a:b:c"])
    func hostileRedirect(_ target: String) async throws {
        let a = try await Self.node(leader: { _ in .server(id: 2, address: target) })
        let discovery = DqliteLeaderDiscovery(
            seeds: [a.address],
            configuration: .init(
                connection: .init(connectTimeout: .seconds(2)), probeTimeout: .seconds(2), timeout: .seconds(1),
                backoffBase: .milliseconds(20), backoffCap: .milliseconds(100)))
        let error = try await #require(throws: DqliteError.self) { try await discovery.connectToLeader() }
        // Under load an attempt may also time out; what must hold is that the redirect was refused, not dialled.
        #expect(
            error.attempts.contains { $0.outcome.contains("invalid leader address") }, "\(error.attempts)")
        #expect(!error.attempts.contains { $0.address == target || $0.outcome.contains("redirected to") })
        await a.server.stop()
    }

    @Test("voters that answer but know no leader: quorum loss is its own error, and the search ends")
    func noQuorum() async throws {
        let nodes = [
            try await Self.node(leader: { _ in .server(id: 0, address: "") }),
            try await Self.node(leader: { _ in .server(id: 0, address: "") }),
        ]
        let discovery = DqliteLeaderDiscovery(
            seeds: nodes.map(\.address), configuration: Self.configuration(timeout: .seconds(2)))
        let clock = ContinuousClock()
        let start = clock.now
        let error = try await #require(throws: DqliteError.self) { try await discovery.connectToLeader() }
        #expect(error.code == .noQuorum)
        #expect(clock.now - start < .seconds(8))  // the search ends (its deadline is 2 s)
        #expect(error.attempts.count == 2)
        #expect(error.attempts.allSatisfy { $0.outcome == "no leader known" })
        #expect(nodes.allSatisfy { $0.leaderRequests >= 2 })  // several rounds, with backoff
        for node in nodes { await node.server.stop() }
    }

    @Test("the error lists every node tried and why: refused, timeout, no leader")
    func aggregateError() async throws {
        let dead = try await FakeServer.start { _ in .silence }
        let deadAddress = dead.address
        await dead.stop()
        let silent = try await FakeServer.start { _ in .silence }
        let noLeader = try await Self.node(leader: { _ in .server(id: 0, address: "") })
        let discovery = DqliteLeaderDiscovery(
            seeds: [try DqliteNodeAddress(deadAddress), try DqliteNodeAddress(silent.address), noLeader.address],
            configuration: Self.configuration(timeout: .milliseconds(500)))
        let error = try await #require(throws: DqliteError.self) { try await discovery.connectToLeader() }
        var outcomes: [String: String] = [:]
        for attempt in error.attempts { outcomes[attempt.address] = attempt.outcome }
        #expect(outcomes[deadAddress]?.contains("refused") == true)
        #expect(outcomes[silent.address] == "timeout")
        #expect(outcomes[noLeader.server.address] == "no leader known")
        #expect("\(error)".contains(deadAddress))
        await silent.stop()
        await noLeader.server.stop()
    }

    @Test("the cached leader is asked first; a failing cached leader is forgotten")
    func cachedLeader() async throws {
        let a = try await Self.node(leader: { .server(id: 1, address: $0) })
        let b = try await Self.node(leader: { _ in .server(id: 0, address: "") })
        let discovery = DqliteLeaderDiscovery(seeds: [b.address, a.address], configuration: Self.configuration())
        await (try await discovery.connectToLeader()).close()
        let bBefore = b.leaderRequests
        await (try await discovery.connectToLeader()).close()
        #expect(b.leaderRequests == bBefore)  // the cache went straight to a
        await a.server.stop()
        _ = try? await discovery.connectToLeader()
        #expect(discovery.lastKnownLeader == nil)
        await b.server.stop()
    }

    @Test("members are stored from a valid CLUSTER answer, never from an invalid one")
    func storeRefresh() async throws {
        let good = try await Self.node(
            leader: { .server(id: 1, address: $0) },
            cluster: { [NodeInfo(id: 1, address: $0, role: 0), NodeInfo(id: 2, address: "127.0.0.1:1", role: 1)] })
        let store = InMemoryNodeStore()
        let discovery = DqliteLeaderDiscovery(seeds: [good.address], store: store, configuration: Self.configuration())
        await (try await discovery.connectToLeader()).close()
        let stored = try await store.nodes()
        #expect(stored.map(\.id) == [1, 2])
        #expect(stored.last?.role == .standby)
        await good.server.stop()

        let hostile = try await Self.node(
            leader: { .server(id: 1, address: $0) },
            cluster: { [NodeInfo(id: 1, address: $0, role: 0), NodeInfo(id: 2, address: "0.0.0.0:9001", role: 0)] })
        let untouched = InMemoryNodeStore([
            DqliteNodeInfo(id: 7, address: try DqliteNodeAddress("10.0.0.7:9001"), role: .voter)
        ])
        let second = DqliteLeaderDiscovery(
            seeds: [hostile.address], store: untouched, configuration: Self.configuration())
        await (try await second.connectToLeader()).close()
        #expect(try await untouched.nodes().map(\.id) == [7])
        await hostile.server.stop()
    }
}
