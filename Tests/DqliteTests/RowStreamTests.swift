import Dqlite
import DqliteWire
import NIOConcurrencyHelpers
import Testing

/// Row streams: lazy reading, early break (INTERRUPT + drain), cancellation, endless PART frames.
@Suite("Row streams against a scripted server")
struct RowStreamTests {
    static let configuration = DqliteConnection.Configuration(
        defaultCallTimeout: .seconds(5), interruptDrainTimeout: .milliseconds(500))

    static func frame(_ first: Int, count: Int, more: Bool) -> Response {
        .rows(RowsFrame(columns: ["n"], rows: (first..<first + count).map { [.integer(Int64($0))] }, more: more))
    }

    /// A server that streams `frames` frames of 10 rows for any QUERY_SQL and answers INTERRUPT with EMPTY.
    static func streamingServer(frames: Int, answerInterrupt: Bool = true) async throws -> FakeServer {
        try await FakeServer.start { request in
            switch request {
            case .querySQL:
                return .responses((0..<frames).map { frame($0 * 10, count: 10, more: $0 < frames - 1) })
            case .interrupt:
                return answerInterrupt ? .responses([.empty]) : .silence
            default:
                return .responses([.result(lastInsertID: 0, rowsAffected: 0)])
            }
        }
    }

    @Test("all rows of a multi-frame result arrive in order")
    func fullRead() async throws {
        let server = try await Self.streamingServer(frames: 5)
        let connection = try await DqliteConnection.connect(
            to: DqliteNodeAddress(server.address), configuration: Self.configuration)
        let values = try await connection.withRows(.querySQL(SQLCall(sql: "SELECT n"))) { rows in
            try await rows.collect()
        }
        #expect(values.map { $0[0] } == (0..<50).map { .integer(Int64($0)) })
        #expect(!server.received.contains(.interrupt(db: 0)))
        #expect(connection.isUsable)
        await server.stop()
    }

    @Test("breaking early sends INTERRUPT, drains, and leaves the connection usable")
    func earlyBreak() async throws {
        let server = try await Self.streamingServer(frames: 20)
        let connection = try await DqliteConnection.connect(
            to: DqliteNodeAddress(server.address), configuration: Self.configuration)
        let taken = try await connection.withRows(.querySQL(SQLCall(sql: "SELECT n"))) { rows in
            var row: [WireValue] = []
            var count = 0
            while try await rows.next(into: &row) {
                count += 1
                if count == 15 { break }
            }
            return count
        }
        #expect(taken == 15)
        #expect(server.received.contains(.interrupt(db: 0)))
        #expect(connection.isUsable)
        // The next call works on the same connection.
        #expect(
            try await connection.call(.execSQL(SQLCall(sql: "UPDATE t SET n = 1")))
                == .result(lastInsertID: 0, rowsAffected: 0))
        await server.stop()
    }

    @Test("a server that never answers INTERRUPT gets the connection closed within the drain bound")
    func drainBound() async throws {
        let server = try await Self.streamingServer(frames: 3, answerInterrupt: false)
        let connection = try await DqliteConnection.connect(
            to: DqliteNodeAddress(server.address), configuration: Self.configuration)
        let clock = ContinuousClock()
        let start = clock.now
        _ = try await connection.withRows(.querySQL(SQLCall(sql: "SELECT n"))) { rows in try await rows.next() }
        #expect(clock.now - start < .seconds(3))
        #expect(!connection.isUsable)
        await server.stop()
    }

    @Test("endless PART frames: the consumer decides; breaking out still drains")
    func endlessPart() async throws {
        // Every frame says PART; INTERRUPT finally ends the stream with EMPTY.
        let server = try await FakeServer.start { request in
            switch request {
            case .querySQL: return .responses((0..<50).map { Self.frame($0, count: 1, more: true) })
            case .interrupt: return .responses([.empty])
            default: return .silence
            }
        }
        let connection = try await DqliteConnection.connect(
            to: DqliteNodeAddress(server.address), configuration: Self.configuration)
        let read = try await connection.withRows(.querySQL(SQLCall(sql: "SELECT n"))) { rows in
            var count = 0
            while try await rows.next() != nil {
                count += 1
                if count == 40 { break }
            }
            return count
        }
        #expect(read == 40)
        #expect(connection.isUsable)
        await server.stop()
    }

    @Test("cancelling a task that is reading rows interrupts and drains")
    func cancelledReader() async throws {
        // 2 frames now; the rest never comes until INTERRUPT.
        let server = try await FakeServer.start { request in
            switch request {
            case .querySQL: return .responses([Self.frame(0, count: 10, more: true)])
            case .interrupt: return .responses([Self.frame(10, count: 10, more: false), .empty])
            default: return .silence
            }
        }
        let connection = try await DqliteConnection.connect(
            to: DqliteNodeAddress(server.address), configuration: Self.configuration)
        // Cancelled once rows are being read (not while the first answer is still awaited, which would close
        // the connection instead: the request's outcome would be unknown).
        let (reading, readingSignal) = AsyncStream<Void>.makeStream()
        let task = Task {
            defer { readingSignal.finish() }
            return try await connection.withRows(.querySQL(SQLCall(sql: "SELECT n")), timeout: .seconds(30)) { rows in
                var row: [WireValue] = []
                _ = try await rows.next(into: &row)
                readingSignal.yield()
                return try await rows.collect()
            }
        }
        var readingIterator = reading.makeAsyncIterator()
        _ = await readingIterator.next()
        try await Task.sleep(for: .milliseconds(100))
        task.cancel()
        let result = await task.result
        guard case .failure(let error as DqliteError) = result else {
            Issue.record("expected cancellation, got \(result)")
            return
        }
        #expect(error.code == .cancelled)
        #expect(server.received.contains(.interrupt(db: 0)))
        #expect(connection.isUsable)
        await server.stop()
    }

    @Test("a stream that ends with FAILURE throws the server's error and needs no INTERRUPT")
    func failureMidStream() async throws {
        let server = try await FakeServer.start { request in
            switch request {
            case .querySQL:
                return .responses([Self.frame(0, count: 5, more: true), .failure(code: 9, message: "interrupted")])
            default: return .silence
            }
        }
        let connection = try await DqliteConnection.connect(
            to: DqliteNodeAddress(server.address), configuration: Self.configuration)
        let error = try await #require(throws: DqliteError.self) {
            try await connection.withRows(.querySQL(SQLCall(sql: "SELECT n"))) { rows in try await rows.collect() }
        }
        #expect(error.resultCode == .SQLITE_INTERRUPT)
        #expect(!server.received.contains(.interrupt(db: 0)))
        #expect(connection.isUsable)
        await server.stop()
    }
}
