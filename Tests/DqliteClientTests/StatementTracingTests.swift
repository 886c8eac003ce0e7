import DqliteLocalCluster
import InMemoryTracing
import Testing
import Tracing

@testable import Dqlite

/// Spans through swift-distributed-tracing's in-memory tracer (``DqliteClient/Configuration/tracer``): one per
/// statement and per transaction, OpenTelemetry's database attributes, no bound values unless opted in.
@Suite("Statement and transaction spans", .timeLimit(.minutes(2)))
struct StatementTracingTests {
    static let secret = "s3cret-\(UInt32.random(in: 0...UInt32.max))"

    static func string(_ attributes: SpanAttributes, _ key: String) -> String? {
        guard case .string(let value)? = attributes[key]?.toSpanAttribute() else { return nil }
        return value
    }

    @Test("statements and transactions get spans with the database conventions' attributes", arguments: [false, true])
    func spans(_ logsParameters: Bool) async throws {
        let tracer = InMemoryTracer()
        try await withClusterClient(
            .v1_11,
            configure: {
                $0.tracer = tracer
                $0.logsStatementParameters = logsParameters
            }
        ) { _, client in
            try await client.execute("CREATE TABLE users (name TEXT)")
            try await client.execute("INSERT INTO users VALUES (\(Self.secret))")
            _ = try await client.query("SELECT name FROM users WHERE name = \(Self.secret)").collect()
            try await client.withTransaction(kind: .immediate) { session in
                try await session.execute("INSERT INTO users VALUES ('a')")
                try await session.execute("UPDATE users SET name = 'b' WHERE name = 'a'")
            }
            await #expect(throws: DqliteError.self) { try await client.execute("INSERT INTO missing VALUES (1)") }
        }
        let spans = tracer.finishedSpans
        let byName = Dictionary(grouping: spans, by: \.operationName)
        #expect(byName["CREATE client-tests"]?.count == 1)
        #expect(byName["SELECT client-tests"]?.count == 1)
        #expect(byName["BEGIN client-tests"]?.count == 1 && byName["COMMIT client-tests"]?.count == 1)
        #expect(byName["UPDATE client-tests"]?.count == 1)
        #expect(byName["INSERT client-tests"]?.count == 3, "two inserts and the failing one")

        for span in spans where span.operationName != "transaction client-tests" {
            #expect(span.kind == .client)
            #expect(Self.string(span.attributes, "db.system.name") == "dqlite")
            #expect(Self.string(span.attributes, "db.namespace") == "client-tests")
            #expect(Self.string(span.attributes, "db.query.text") != nil)
            #expect(Self.string(span.attributes, "server.address") == "127.0.0.1")
            #expect(span.attributes["server.port"] != nil)
        }
        let select = try #require(byName["SELECT client-tests"]?.first)
        #expect(Self.string(select.attributes, "db.query.text") == "SELECT name FROM users WHERE name = ?")
        #expect(Self.string(select.attributes, "db.operation.name") == "SELECT")

        // The transaction: one span, parent of BEGIN, the statements and COMMIT.
        let transaction = try #require(byName["transaction client-tests"]?.first)
        #expect(Self.string(transaction.attributes, "dqlite.transaction.kind") == "immediate")
        let children = spans.filter { $0.parentSpanID == transaction.spanID }.map(\.operationName).sorted()
        #expect(
            children == ["BEGIN client-tests", "COMMIT client-tests", "INSERT client-tests", "UPDATE client-tests"])
        #expect(select.parentSpanID == nil, "a statement outside a transaction is a root span here")

        // The failing statement: error recorded, status, error.type and the SQLite result code (1, SQLITE_ERROR).
        let failed = try #require(byName["INSERT client-tests"]?.first { !$0.errors.isEmpty })
        #expect(failed.status?.code == .error)
        #expect(Self.string(failed.attributes, "error.type") == "server")
        #expect(Self.string(failed.attributes, "db.response.status_code") == "1")

        let leaked = spans.contains { span in
            var found = false
            span.attributes.forEach { _, attribute in
                if "\(attribute)".contains(Self.secret) { found = true }
            }
            return found
        }
        #expect(leaked == logsParameters, logsParameters ? "opted in: values are attributes" : "a value leaked")
    }
}
