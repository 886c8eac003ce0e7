import Dqlite
import DqliteTestSupport
import DqliteWire
import Foundation
import Synchronization
import Testing

/// Raw frames, written by hand (the codec refuses to encode most of them).
enum RawFrame {
    static func word(_ value: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }

    static func padded(_ bytes: [UInt8]) -> [UInt8] { bytes + [UInt8](repeating: 0, count: (8 - bytes.count % 8) % 8) }

    /// A NUL-terminated text padded to a word.
    static func text(_ text: String) -> [UInt8] { padded(Array(text.utf8) + [0]) }

    /// A frame: header (`words` defaults to the body's) and the body padded to a word.
    static func frame(_ type: ResponseType, _ body: [UInt8], words: UInt32? = nil) -> [UInt8] {
        let body = padded(body)
        let count = words ?? UInt32(body.count / 8)
        return [
            UInt8(truncatingIfNeeded: count), UInt8(truncatingIfNeeded: count >> 8),
            UInt8(truncatingIfNeeded: count >> 16),
            UInt8(truncatingIfNeeded: count >> 24), type.rawValue, 0, 0, 0,
        ] + body
    }

    /// A ROWS body: column count and names, then `rows` (already encoded), then the marker.
    static func rows(columns: [String], rows: [UInt8], marker: UInt64? = RowsMarker.done.rawValue, count: UInt64? = nil)
        -> [UInt8]
    {
        var body = word(count ?? UInt64(columns.count))
        for column in columns { body += text(column) }
        body += rows
        if let marker { body += word(marker) }
        return body
    }

    /// A row header: one nibble per column, low nibble first, padded to a word.
    static func header(_ types: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = 0
        while index < types.count {
            let low = types[index] & 0xF
            let high = index + 1 < types.count ? (types[index + 1] & 0xF) << 4 : 0
            bytes.append(low | high)
            index += 2
        }
        return padded(bytes)
    }
}

extension FaultSuite {
    /// F13: a fake server that lies. The client must never crash, never allocate past its limits, always
    /// throw a typed error for the call that met the lie — and its other connections keep working.
    @Suite("Hostile server (F13)")
    struct HostileServerTests {
        /// Limits well below the claims the server makes (GiB), so over-allocation would show.
        static let limits = WireLimits(
            maxFrameBytes: 1 << 20, maxColumns: 1000, maxParameters: 1000, maxNodes: 100, maxFiles: 10,
            maxTextBytes: 256 << 10, maxBlobBytes: 256 << 10, maxNameBytes: 4096, maxAddressBytes: 256,
            maxMessageBytes: 4096)

        static let settings = ClientSettings(
            connectTimeout: .milliseconds(500), callTimeout: .milliseconds(500), probeTimeout: .milliseconds(500),
            discoveryTimeout: .seconds(2), backoffBase: .milliseconds(20), backoffCap: .milliseconds(100),
            leaseTimeout: .seconds(2), busyTimeout: .milliseconds(200), maximumAttempts: 3, maximumConnections: 4)

        static func client(_ seeds: [String], store: any DqliteNodeStore = InMemoryNodeStore()) throws -> DqliteClient {
            var configuration = try settings.configuration(seeds: seeds, database: "hostile")
            configuration.connection.limits = limits
            configuration.connection.interruptDrainTimeout = .milliseconds(300)
            configuration.connection.interruptDrainMaxFrames = 10_000
            configuration.discovery.connection = configuration.connection
            configuration.nodeStore = store
            return DqliteClient(configuration: configuration)
        }

        /// What a case sends, and which call meets it.
        struct Case: Sendable, CustomStringConvertible {
            enum Call: Sendable { case query, exec, collect(limit: Int), earlyBreak }
            var name: String
            var call: Call
            var reply: HostileServer.Reply
            /// Accepted error codes; empty: the call must succeed.
            var expected: Set<String>

            var description: String { name }
            var sql: String {
                switch call {
                case .exec: return "INSERT INTO t VALUES ('hostile:\(name)')"
                default: return "SELECT 'hostile:\(name)'"
                }
            }
        }

        static let cases: [Case] = {
            let done = RowsMarker.done.rawValue
            let part = RowsMarker.part.rawValue
            let int = ValueType.integer.rawValue
            return [
                Case(
                    name: "frame header claims 32 GiB", call: .query,
                    reply: .bytes([0xFF, 0xFF, 0xFF, 0xFF, ResponseType.rows.rawValue, 0, 0, 0]),
                    expected: ["protocolViolation"]),
                Case(
                    name: "frame within the limit that never completes", call: .query,
                    reply: .bytes(
                        RawFrame.frame(.rows, [], words: UInt32((1 << 20) / 8 - 1))
                            + [UInt8](repeating: 0x41, count: 4096)),
                    expected: ["timeout"]),
                Case(
                    name: "blob length 2^40", call: .query,
                    reply: .bytes(
                        RawFrame.frame(
                            .rows,
                            RawFrame.rows(
                                columns: ["b"],
                                rows: RawFrame.header([ValueType.blob.rawValue]) + RawFrame.word(1 << 40)
                                    + RawFrame.word(0)))),
                    expected: ["protocolViolation"]),
                Case(
                    name: "text without NUL", call: .query,
                    reply: .bytes(
                        RawFrame.frame(
                            .rows,
                            RawFrame.rows(
                                columns: ["t"],
                                rows: RawFrame.header([ValueType.text.rawValue])
                                    + [UInt8](repeating: 0x41, count: 4096), marker: nil))),
                    expected: ["protocolViolation"]),
                Case(
                    name: "column count 2^31", call: .query,
                    reply: .bytes(RawFrame.frame(.rows, RawFrame.rows(columns: ["a"], rows: [], count: 1 << 31))),
                    expected: ["protocolViolation"]),
                Case(
                    name: "value type code 7", call: .query,
                    reply: .bytes(
                        RawFrame.frame(
                            .rows,
                            RawFrame.rows(columns: ["x"], rows: RawFrame.header([7]) + RawFrame.word(1)))),
                    expected: ["protocolViolation"]),
                Case(
                    name: "row truncated mid-row", call: .query,
                    reply: .bytes(
                        RawFrame.frame(
                            .rows,
                            RawFrame.rows(
                                columns: ["a", "b"], rows: RawFrame.header([int, int]) + RawFrame.word(1), marker: nil)
                        )),
                    expected: ["protocolViolation"]),
                Case(
                    name: "non-UTF-8 text", call: .query,
                    reply: .bytes(
                        RawFrame.frame(
                            .rows,
                            RawFrame.rows(
                                columns: ["t"],
                                rows: RawFrame.header([ValueType.text.rawValue])
                                    + RawFrame.padded([0xC3, 0x28, 0xFF, 0])
                            ))),
                    expected: ["protocolViolation"]),
                Case(
                    name: "RESULT answering a query", call: .query,
                    reply: .responses([.result(lastInsertID: 1, rowsAffected: 1)]), expected: ["protocolViolation"]),
                Case(
                    name: "ROWS answering an exec", call: .exec,
                    reply: .responses([.rows(RowsFrame(columns: ["x"], rows: [[.integer(1)]], more: false))]),
                    expected: ["ambiguousCommit"]),
                Case(
                    name: "unknown message type 0xEE", call: .exec,
                    reply: .bytes(
                        RawFrame.frame(.empty, [0, 0]).enumerated().map { $0.offset == 4 ? 0xEE : $0.element }),
                    expected: ["ambiguousCommit"]),
                Case(
                    name: "FAILURE message over the limit", call: .exec,
                    reply: .bytes(
                        RawFrame.frame(
                            .failure, RawFrame.word(1) + RawFrame.text(String(repeating: "x", count: 8192)))),
                    expected: ["ambiguousCommit"]),
                Case(
                    name: "FAILURE message without NUL", call: .query,
                    reply: .bytes(RawFrame.frame(.failure, RawFrame.word(1) + [UInt8](repeating: 0x41, count: 64))),
                    expected: ["protocolViolation"]),
                Case(
                    name: "half a RESULT, then close", call: .exec,
                    reply: .bytesThenClose(
                        Array(HostileServer.bytes([.result(lastInsertID: 1, rowsAffected: 1)]).prefix(12))),
                    expected: ["ambiguousCommit"]),
                Case(
                    name: "endless PART frames, collect(limit: 2000)", call: .collect(limit: 2000),
                    reply: .endlessRows, expected: ["invalidRequest"]),
                Case(name: "endless PART frames, early break", call: .earlyBreak, reply: .endlessRows, expected: []),
                Case(
                    name: "PART marker then a RESULT", call: .query,
                    reply: .bytes(
                        RawFrame.frame(
                            .rows,
                            RawFrame.rows(columns: ["x"], rows: RawFrame.header([int]) + RawFrame.word(1), marker: part)
                        )
                            + HostileServer.bytes([.result(lastInsertID: 1, rowsAffected: 1)])),
                    expected: ["protocolViolation"]),
                Case(
                    name: "DONE marker not last", call: .query,
                    reply: .bytes(
                        RawFrame.frame(.rows, RawFrame.rows(columns: ["x"], rows: [], marker: done) + RawFrame.word(7))),
                    expected: ["protocolViolation"]),
            ]
        }()

        @Test(
            "lies in answers: a typed error for that call, bounded memory, other connections unaffected",
            arguments: cases)
        func hostileAnswer(_ item: Case) async throws {
            let server = try await HostileServer.start { request, _ in
                guard let sql = FaultProxy.sql(of: request), sql.contains("hostile:\(item.name)") else {
                    return .normal
                }
                return item.reply
            }
            defer { Task { await server.stop() } }
            let client = try Self.client([server.address])
            defer { client.shutdown() }
            // Warm the pool, then keep three other connections busy while the lie is told.
            _ = try await client.query("SELECT 'warm'").collect()
            let good = Shared((ok: 0, failed: [String]()))
            let stop = Shared(false)
            let others = Task {
                await withTaskGroup(of: Void.self) { group in
                    for index in 0..<3 {
                        group.addTask {
                            while !stop.value {
                                do {
                                    if index == 0 {
                                        try await client.execute("INSERT INTO t VALUES ('good')")
                                    } else {
                                        _ = try await client.query("SELECT 'good \(index)'").collect()
                                    }
                                    good.update { $0.ok += 1 }
                                } catch {
                                    good.update { $0.failed.append("\(error)") }
                                }
                                try? await Task.sleep(for: .milliseconds(2))
                            }
                        }
                    }
                }
            }
            try await Task.sleep(for: .milliseconds(100))
            let clock = ContinuousClock()
            let started = clock.now
            let (error, growth) = await MemoryProbe.measure { () -> (any Error)? in
                do {
                    switch item.call {
                    case .query: _ = try await client.query(DqliteQuery(unsafeSQL: item.sql)).collect()
                    case .exec: try await client.execute(DqliteQuery(unsafeSQL: item.sql))
                    case .collect(let limit):
                        _ = try await client.query(DqliteQuery(unsafeSQL: item.sql)).collect(limit: limit)
                    case .earlyBreak:
                        var seen = 0
                        for try await _ in try await client.query(DqliteQuery(unsafeSQL: item.sql)) {
                            seen += 1
                            if seen == 100 { break }
                        }
                    }
                    return nil
                } catch {
                    return error
                }
            }
            let elapsed = clock.now - started
            try await Task.sleep(for: .milliseconds(200))
            stop.value = true
            await others.value
            // The client still works.
            let after = try await client.query("SELECT 'after'").collect()

            let code = (error as? DqliteError)?.code.name
            let observed = error.map { _ in code ?? "untyped: \(String(describing: error))" } ?? "ok"
            let bound = Self.settings.autocommitDeadline
            let passed =
                (item.expected.isEmpty ? error == nil : code.map(item.expected.contains) ?? false)
                && growth.virtualPeak < 256 << 20 && growth.residentPeak < 64 << 20 && good.value.failed.isEmpty
                && good.value.ok > 0 && elapsed < bound && after.count == 1
            HostileReport.shared.add(
                HostileFigures(
                    name: item.name,
                    expected: item.expected.isEmpty ? "ok" : item.expected.sorted().joined(separator: "/"),
                    observed: observed, seconds: elapsed.seconds, virtualPeakGrowthMiB: growth.virtualPeak >> 20,
                    residentPeakGrowthMiB: growth.residentPeak >> 20, otherConnectionsOK: good.value.ok,
                    otherConnectionsFailed: good.value.failed.count, passed: passed))

            if item.expected.isEmpty {
                #expect(error == nil, "expected success, got \(String(describing: error))")
            } else {
                #expect(error is DqliteError, "not a typed error: \(String(describing: error))")
                #expect(
                    code.map(item.expected.contains) ?? false,
                    "expected \(item.expected), got \(String(describing: error))")
            }
            #expect(growth.virtualPeak < 256 << 20, "the client mapped too much memory: \(growth)")
            #expect(growth.residentPeak < 64 << 20, "the client used too much memory: \(growth)")
            #expect(elapsed < bound, "the call took \(elapsed) (bound \(bound))")
            #expect(good.value.ok > 0, "the other connections did no work meanwhile")
            #expect(good.value.failed.isEmpty, "other connections failed: \(good.value.failed.prefix(3))")
            #expect(after.count == 1)
        }

        @Test("a second, unsolicited answer is not handed to the next request on that connection")
        func unsolicitedFrame() async throws {
            let server = try await HostileServer.start { request, _ in
                guard let sql = FaultProxy.sql(of: request), sql.contains("hostile:double") else { return .normal }
                // Two answers to one request: the second one sits in the client's queue.
                return .responses([
                    .result(lastInsertID: 777, rowsAffected: 1), .result(lastInsertID: 777, rowsAffected: 1),
                ])
            }
            defer { Task { await server.stop() } }
            let client = try Self.client([server.address])
            defer { client.shutdown() }
            let outcome: (first: Int64, second: Result<Int64, any Error>) = try await client.withConnection { session in
                let first = try await session.execute("INSERT INTO t VALUES ('hostile:double')").lastInsertID
                try await Task.sleep(for: .milliseconds(100))  // the extra frame has arrived
                do {
                    // The server answers this one with lastInsertID 1.
                    return (first, .success(try await session.execute("INSERT INTO t VALUES ('next')").lastInsertID))
                } catch {
                    return (first, .failure(error))
                }
            }
            #expect(outcome.first == 777)
            let stale: Bool
            if case .success(let id) = outcome.second, id == 777 { stale = true } else { stale = false }
            HostileReport.shared.add(
                HostileFigures(
                    name: "two answers to one request", expected: "next call: its own answer or protocolViolation",
                    observed: stale ? "next call got the stale answer (lastInsertID 777)" : "\(outcome.second)",
                    seconds: 0, virtualPeakGrowthMiB: 0, residentPeakGrowthMiB: 0, otherConnectionsOK: 0,
                    otherConnectionsFailed: 0, passed: !stale))
            #expect(!stale, "the next request on the connection was given the previous request's extra answer")
            switch outcome.second {
            case .success(let id):
                #expect(id == 1, "only its own answer may be returned")
            case .failure(let error):
                let failure = try #require(error as? DqliteError)
                #expect(failure.code == .protocolViolation, "\(failure)")
                #expect(failure.outcome == .notApplied, "the request was refused before it was written")
            }
        }

        /// Control characters escaped, long text cut (for the report).
        static func printable(_ text: String) -> String {
            let escaped = text.unicodeScalars.map {
                $0.value < 0x20 ? "\\u{\(String($0.value, radix: 16))}" : String($0)
            }
            let joined = escaped.joined()
            return joined.count > 40 ? String(joined.prefix(20)) + "…(\(text.utf8.count) bytes)" : joined
        }

        /// Addresses a LEADER answer must never make the client dial.
        static func oddRedirects(canary port: Int) -> [String] {
            [
                "0.0.0.0:\(port)", "[::]:\(port)", "127.0.0.1:0", "127.0.0.1:99999", "127.0.0.1:-1", "127.0.0.1",
                String(repeating: "a", count: 300) + ":\(port)", "\u{7}bell:\(port)", "host name:\(port)",
                ":\(port)",
            ]
        }

        @Test("redirects to odd addresses are never followed; discovery fails with a typed error")
        func oddRedirectsAreRefused() async throws {
            let canary = try await HostileServer.start(host: "0.0.0.0")
            defer { Task { await canary.stop() } }
            for redirect in Self.oddRedirects(canary: canary.port) {
                let server = try await HostileServer.start { request, _ in
                    if case .leader = request {
                        // A hand-written SERVER: the codec refuses some of these addresses.
                        return .bytes(RawFrame.frame(.server, RawFrame.word(2) + RawFrame.text(redirect)))
                    }
                    return .normal
                }
                let client = try Self.client([server.address])
                let clock = ContinuousClock()
                let started = clock.now
                let (error, growth) = await MemoryProbe.measure { () -> (any Error)? in
                    do {
                        _ = try await client.query("SELECT 1").collect()
                        return nil
                    } catch { return error }
                }
                let elapsed = clock.now - started
                client.shutdown()
                await server.stop()
                let dqlite = error as? DqliteError
                let passed = dqlite?.code == .noLeader && canary.connections == 0
                HostileReport.shared.add(
                    HostileFigures(
                        name: "redirect to `\(Self.printable(redirect))`",
                        expected: "noLeader, never dialled",
                        observed: dqlite?.code.name ?? "\(String(describing: error))",
                        seconds: elapsed.seconds, virtualPeakGrowthMiB: growth.virtualPeak >> 20,
                        residentPeakGrowthMiB: growth.residentPeak >> 20, otherConnectionsOK: 0,
                        otherConnectionsFailed: 0,
                        passed: passed))
                #expect(dqlite?.code == .noLeader, "\(redirect): \(String(describing: error))")
                #expect(!(dqlite?.attempts.isEmpty ?? true), "\(redirect): no attempts listed")
                #expect(elapsed < Self.settings.connectionSetup, "\(redirect): took \(elapsed)")
            }
            #expect(canary.connections == 0, "an odd redirect was dialled")
        }

        @Test("a redirect loop (A names B, B names A) and a leader that names a third node end in noLeader")
        func redirectLoop() async throws {
            let addresses = Shared<[String]>([])
            let first = try await HostileServer.start { request, _ in
                if case .leader = request { return .responses([.server(id: 2, address: addresses.value.last ?? "")]) }
                return .normal
            }
            let second = try await HostileServer.start { request, _ in
                if case .leader = request { return .responses([.server(id: 1, address: addresses.value.first ?? "")]) }
                return .normal
            }
            defer {
                Task {
                    await first.stop()
                    await second.stop()
                }
            }
            addresses.value = [first.address, second.address]
            let client = try Self.client([first.address])
            defer { client.shutdown() }
            let error = await #expect(throws: DqliteError.self) { _ = try await client.query("SELECT 1").collect() }
            #expect(error?.code == .noLeader)
            #expect(
                error?.attempts.contains { $0.outcome.contains("did not confirm") } == true,
                "\(String(describing: error))")
            HostileReport.shared.add(
                HostileFigures(
                    name: "redirect loop A → B → A", expected: "noLeader", observed: error?.code.name ?? "none",
                    seconds: 0, virtualPeakGrowthMiB: 0, residentPeakGrowthMiB: 0, otherConnectionsOK: 0,
                    otherConnectionsFailed: 0, passed: error?.code == .noLeader))
        }

        @Test("a CLUSTER answer with invalid members is never written to the node store")
        func invalidClusterNotStored() async throws {
            let server = try await HostileServer.start { request, address in
                if case .cluster = request {
                    return .responses([
                        .servers([
                            NodeInfo(id: 1, address: address, role: 0), NodeInfo(id: 2, address: "0.0.0.0:1", role: 0),
                            NodeInfo(id: 0, address: "127.0.0.1:2", role: 0), NodeInfo(id: 3, address: "x:1", role: 9),
                        ])
                    ])
                }
                return .normal
            }
            defer { Task { await server.stop() } }
            let store = InMemoryNodeStore()
            let client = try Self.client([server.address], store: store)
            defer { client.shutdown() }
            let rows = try await client.query("SELECT 1").collect()
            #expect(rows.count == 1)
            let stored = try await store.nodes()
            #expect(stored.isEmpty, "the store was written: \(stored)")
            HostileReport.shared.add(
                HostileFigures(
                    name: "CLUSTER with invalid members", expected: "not stored; calls work",
                    observed: stored.isEmpty ? "not stored; calls work" : "stored \(stored)", seconds: 0,
                    virtualPeakGrowthMiB: 0, residentPeakGrowthMiB: 0, otherConnectionsOK: rows.count,
                    otherConnectionsFailed: 0, passed: stored.isEmpty))
        }
    }
}

/// Hostile-server figures collected across the tests; the report part is rewritten after each one.
final class HostileReport: Sendable {
    static let shared = HostileReport()
    private let items = Mutex<[HostileFigures]>([])

    func add(_ item: HostileFigures) {
        let all = items.withLock { items -> [HostileFigures] in
            items.append(item)
            return items
        }
        var run = RunFigures(
            label: FaultEnvironment.label, date: FaultSuite.ClusterFaults.today(), requestedDuration: nil,
            latencyMilliseconds: FaultEnvironment.latencyMilliseconds,
            electionTimeout: FaultEnvironment.electionTimeout.seconds, failoverBudget: 0, callTimeout: 0,
            autocommitDeadline: 0, transactionDeadline: 0)
        run.hostile = all
        try? run.writePart("hostile", to: FaultEnvironment.resultsDirectory)
    }
}
