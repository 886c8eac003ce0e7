import DqliteTestSupport
import DqliteWire
import Testing

@testable import Dqlite

extension FaultSuite {
    /// Two client-core defects that only a scripted server produces on demand: a COMMIT refused as busy while
    /// its task is cancelled (the pool slot used to leak), and a server that trickles its answer (the call's
    /// deadline used to restart with each retry).
    @Suite("Leases and deadlines (fake server)")
    struct LeaseAndDeadlineTests {
        /// A client with one pooled connection, so a leaked lease shows as the next call finding no connection.
        static func client(_ server: HostileServer, callTimeout: Duration = .seconds(2)) throws -> DqliteClient {
            var settings = ClientSettings()
            settings.maximumConnections = 1
            settings.leaseTimeout = .seconds(1)
            settings.busyTimeout = .seconds(30)
            settings.callTimeout = callTimeout
            return DqliteClient(configuration: try settings.configuration(seeds: [server.address], database: "lease"))
        }

        /// How many requests carrying `text` the server received.
        static func count(_ server: HostileServer, _ text: String) -> Int {
            server.received.filter { FaultProxy.sql(of: $0)?.contains(text) == true }.count
        }

        @Test("a transaction cancelled while its COMMIT waits out SQLITE_BUSY gives its connection back")
        func cancelledBusyCommit() async throws {
            let server = try await HostileServer.start { request, _ in
                guard FaultProxy.sql(of: request) == "COMMIT" else { return .normal }
                return .responses([.failure(code: 5, message: "database is locked")])
            }
            defer { Task { await server.stop() } }
            let client = try Self.client(server)
            defer { client.shutdown() }

            let transaction = Task {
                try await client.withTransaction { session in
                    try await session.execute("INSERT INTO t VALUES (1)")
                }
            }
            // Cancel while the client sleeps before re-sending COMMIT, not while a COMMIT is in flight (whose
            // outcome would be unknown): from the 12th refusal on the client backs off 75–125 ms, and the
            // refusal reaches it within a few milliseconds of the request.
            for _ in 0..<2000 where Self.count(server, "COMMIT") < 12 { try await Task.sleep(for: .milliseconds(2)) }
            let seen = Self.count(server, "COMMIT")
            #expect(seen >= 12)
            for _ in 0..<2000 where Self.count(server, "COMMIT") == seen { try await Task.sleep(for: .milliseconds(1)) }
            try await Task.sleep(for: .milliseconds(20))
            transaction.cancel()
            let outcome = await transaction.result
            guard case .failure(let error) = outcome else {
                Issue.record("the cancelled transaction committed")
                return
            }
            // One error type: cancellation is a DqliteError, and nothing was committed (COMMIT was refused).
            let failure = error as? DqliteError
            #expect(failure?.code == .cancelled, "\(type(of: error)): \(error)")
            #expect(failure?.outcome == .notApplied, "\(type(of: error)): \(error)")
            // The single pool slot came back: before the fix this failed with poolExhausted after the lease
            // timeout, for every later call.
            let pool = try client.pool(for: "lease").counts
            #expect(pool.leased == 0, "\(pool)")
            try await client.execute("INSERT INTO t VALUES (2)")
        }

        @Test("a trickled answer fails the call at its deadline, once, however the bytes arrive")
        func slowloris() async throws {
            let server = try await HostileServer.start { request, _ in
                guard let sql = FaultProxy.sql(of: request), sql.contains("slow") else { return .normal }
                // One byte every 150 ms: the answer would take ~6 s to arrive whole, and each byte arrives well
                // within any per-read timeout.
                let rows = Response.rows(RowsFrame(columns: ["x"], rows: [[.integer(1)]], more: false))
                let result = Response.result(lastInsertID: 1, rowsAffected: 1)
                return .trickle([sql.hasPrefix("SELECT") ? rows : result], interval: .milliseconds(150))
            }
            defer { Task { await server.stop() } }
            let client = try Self.client(server, callTimeout: .seconds(1))
            defer { client.shutdown() }

            // A read may be retried, but not past its deadline: one attempt used it all.
            let read = await #expect(throws: DqliteError.self) {
                _ = try await client.query("SELECT 'slow'").collect()
            }
            #expect(read?.code == .timeout, "\(String(describing: read))")
            // Before the fix the read was sent 3 times (maximumAttempts), each attempt with a fresh deadline.
            #expect(Self.count(server, "SELECT 'slow'") == 1)

            // A write is never retried after it was sent: its outcome is unknown.
            let write = await #expect(throws: DqliteError.self) {
                try await client.execute("INSERT INTO t VALUES ('slow')")
            }
            #expect(write?.code == .ambiguousCommit, "\(String(describing: write))")
            #expect(Self.count(server, "INSERT INTO t VALUES ('slow')") == 1)
            // An explicit timeout bounds the call the same way.
            let explicit = await #expect(throws: DqliteError.self) {
                _ = try await client.query("SELECT 'slow' AS explicit", options: .init(timeout: .milliseconds(500)))
                    .collect()
            }
            #expect(explicit?.code == .timeout, "\(String(describing: explicit))")
            #expect(Self.count(server, "SELECT 'slow' AS explicit") == 1)
        }
    }
}
