import Dqlite
import DqliteWire
import Testing

/// Failure paths of one connection, against a scripted fake server (what a real server cannot produce).
@Suite("Connection failure paths")
struct ConnectionFailureTests {
    static let fast = DqliteConnection.Configuration(
        connectTimeout: .seconds(2), defaultCallTimeout: .seconds(5), interruptDrainTimeout: .milliseconds(500))

    func connect(_ server: FakeServer, _ configuration: DqliteConnection.Configuration = fast) async throws
        -> DqliteConnection
    {
        try await DqliteConnection.connect(to: DqliteNodeAddress(server.address), configuration: configuration)
    }

    @Test("a node that accepts but never answers: the call fails at its deadline and the connection is poisoned")
    func silentNode() async throws {
        let server = try await FakeServer.start { _ in .silence }
        let connection = try await connect(server)
        let clock = ContinuousClock()
        let start = clock.now
        let error = try await #require(throws: DqliteError.self) {
            try await connection.call(.leader, timeout: .milliseconds(300))
        }
        let elapsed = clock.now - start
        #expect(error.code == .timeout)
        #expect(error.outcome == .unknown)  // the request went out
        #expect(elapsed >= .milliseconds(300) && elapsed < .seconds(3))
        #expect(!connection.isUsable)
        let again = try await #require(throws: DqliteError.self) { try await connection.call(.leader) }
        #expect(again.code == .connectionPoisoned)
        await server.stop()
    }

    @Test("the default deadline applies when the caller gives none")
    func defaultDeadline() async throws {
        let server = try await FakeServer.start { _ in .silence }
        var configuration = Self.fast
        configuration.defaultCallTimeout = .milliseconds(200)
        let connection = try await connect(server, configuration)
        let error = try await #require(throws: DqliteError.self) { try await connection.call(.leader) }
        #expect(error.code == .timeout)
        await server.stop()
    }

    @Test("cancelling a call with bytes in flight closes the connection promptly")
    func cancellation() async throws {
        let server = try await FakeServer.start { _ in .silence }
        let connection = try await connect(server)
        let task = Task { try await connection.call(.leader, timeout: .seconds(30)) }
        try await Task.sleep(for: .milliseconds(100))
        task.cancel()
        let result = await task.result
        guard case .failure(let error as DqliteError) = result else {
            Issue.record("expected a DqliteError, got \(result)")
            return
        }
        #expect(error.code == .cancelled)
        #expect(!connection.isUsable)
        await server.stop()
    }

    @Test("an answer of the wrong type is a protocol violation and poisons the connection")
    func wrongType() async throws {
        let server = try await FakeServer.start { _ in .responses([.empty]) }
        let connection = try await connect(server)
        let error = try await #require(throws: DqliteError.self) { try await connection.call(.leader) }
        #expect(error.code == .protocolViolation)
        #expect(!connection.isUsable)
        await server.stop()
    }

    @Test("a frame header announcing a huge body is refused before any body arrives")
    func hugeFrame() async throws {
        let server = try await FakeServer.start { _ in .bytes([0xFF, 0xFF, 0xFF, 0x7F, 1, 0, 0, 0]) }
        let connection = try await connect(server)
        let error = try await #require(throws: DqliteError.self) { try await connection.call(.leader) }
        #expect(error.code == .protocolViolation)
        #expect(error.message.contains("limit"))
        await server.stop()
    }

    @Test("bytes that do not decode (a text without its NUL) are a protocol violation")
    func garbage() async throws {
        // SERVER id 1, address "abcdefgh" with no terminator.
        let bytes: [UInt8] = [2, 0, 0, 0, 1, 0, 0, 0] + [1, 0, 0, 0, 0, 0, 0, 0] + Array("abcdefgh".utf8)
        let server = try await FakeServer.start { _ in .bytes(bytes) }
        let connection = try await connect(server)
        let error = try await #require(throws: DqliteError.self) { try await connection.call(.leader) }
        #expect(error.code == .protocolViolation)
        await server.stop()
    }

    @Test("the server closing mid-call is connectionClosed with an unknown outcome")
    func closedMidCall() async throws {
        let server = try await FakeServer.start { _ in .close }
        let connection = try await connect(server)
        let error = try await #require(throws: DqliteError.self) {
            try await connection.call(.execSQL(SQLCall(sql: "INSERT INTO t VALUES (1)")))
        }
        #expect(error.code == .connectionClosed)
        #expect(error.outcome == .unknown)
        #expect(!connection.isUsable)
        await server.stop()
    }

    @Test(
        "connection-fatal FAILURE codes poison the connection; others do not",
        arguments: [
            (UInt64(10250), "not leader", false, true), (10506, "leadership lost", false, true),
            (8202, "not leader", false, true), (8458, "leadership lost", false, true),
            (12, "no database opened", true, true), (12, "no database opened", false, false),
            (12, "no statement with the given id", true, false), (0, "empty statement", false, false),
            (0, "not an error", false, true), (1, "near \"SELEC\": syntax error", true, false),
            (2067, "UNIQUE constraint failed: t.k", true, false), (5, "database is locked", true, false),
        ])
    func fatalCodes(code: UInt64, message: String, openFirst: Bool, fatal: Bool) async throws {
        let server = try await FakeServer.start { request in
            if case .open = request { return .responses([.db(id: 0)]) }
            return .responses([.failure(code: code, message: message)])
        }
        let connection = try await connect(server)
        if openFirst { try await connection.call(.open(database: "t", flags: 0, vfs: "volatile")) }
        let error = try await #require(throws: DqliteError.self) {
            try await connection.call(.execSQL(SQLCall(sql: "INSERT INTO t VALUES (1)")))
        }
        #expect(error.code == .server)
        #expect(error.resultCode == DqliteResultCode(rawValue: code))
        #expect(error.message == message)
        #expect(connection.isUsable == !fatal)
        #expect(error.outcome == (code == 10506 || code == 8458 ? .unknown : .notApplied))
        await server.stop()
    }

    @Test("requests that crash or hang servers are refused before anything is sent")
    func refusedRequests() async throws {
        let server = try await FakeServer.start { _ in .responses([.empty]) }
        let connection = try await connect(server)
        for request: Request in [
            .describe(format: 1), .heartbeat(timestamp: 1), .connect(id: 1, address: "x"), .cluster(format: 2),
            .execSQL(SQLCall(sql: "  \n")), .prepare(db: 0, sql: "", schema: 0), .querySQL(SQLCall(sql: "")),
        ] {
            let error = try await #require(throws: DqliteError.self) { try await connection.call(request) }
            #expect(error.code == .invalidRequest, "\(request)")
        }
        #expect(connection.isUsable)
        try await Task.sleep(for: .milliseconds(50))
        #expect(server.received.isEmpty)
        await server.stop()
    }

    @Test("one request at a time: a concurrent call is refused, the first completes")
    func busy() async throws {
        let server = try await FakeServer.start { _ in .silence }
        let connection = try await connect(server)
        async let first: Response = connection.call(.leader, timeout: .milliseconds(500))
        try await Task.sleep(for: .milliseconds(50))
        let error = try await #require(throws: DqliteError.self) { try await connection.call(.leader) }
        #expect(error.code == .connectionBusy)
        _ = try? await first
        await server.stop()
    }

    @Test("connect to a closed port fails fast and names the node")
    func refused() async throws {
        let server = try await FakeServer.start { _ in .silence }
        let address = server.address
        await server.stop()
        let error = try await #require(throws: DqliteError.self) {
            try await DqliteConnection.connect(to: DqliteNodeAddress(address), configuration: Self.fast)
        }
        #expect(error.code == .connectFailed)
        #expect(error.node == address)
        #expect(error.message.contains("refused"))
    }
}
