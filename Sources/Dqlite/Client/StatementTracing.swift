import Tracing

/// Spans for statements and transactions through swift-distributed-tracing
/// (``DqliteClient/Configuration/tracer``, else the bootstrapped `InstrumentationSystem.tracer`; no-ops by
/// default), with the attributes of OpenTelemetry's database conventions:
///
/// - a statement span (kind client) named `"<operation> <database>"` (`"SELECT app"`), with `db.system.name`
///   (`dqlite`), `db.namespace` (the database), `db.operation.name` (the statement's first keyword),
///   `db.query.text` (the SQL as sent: bound values are `?` placeholders, never in the text),
///   `server.address` and `server.port` (the node); bound values as `db.query.parameter.<index>` only with
///   ``DqliteClient/Configuration/logsStatementParameters``;
/// - a transaction span named `"transaction <database>"` around `withTransaction` (every attempt and its
///   BEGIN and COMMIT), parent of the statement spans in it, with `dqlite.transaction.kind` and
///   `dqlite.transaction.attempts`;
/// - on failure: the error recorded, status error, `error.type` (the ``DqliteError/Code`` name) and
///   `db.response.status_code` (the SQLite result code, for a server's FAILURE).
struct StatementTracing: Sendable {
    let tracer: any Tracer
    let database: String
    let logsParameters: Bool
    /// The span the statements belong to (a transaction's), else the task's current context.
    var parent: ServiceContext?

    /// A statement's span, started; the caller ends it.
    func startStatement(_ sql: String, parameters: [DqliteValue], node: DqliteNodeAddress) -> any Span {
        let operation = Self.operationName(of: sql)
        let span = tracer.startSpan(
            operation.map { "\($0) \(database)" } ?? database, context: parent ?? .current ?? .topLevel,
            ofKind: .client)
        guard span.isRecording else { return span }
        span.updateAttributes { attributes in
            attributes["db.system.name"] = "dqlite"
            attributes["db.namespace"] = database
            attributes["db.query.text"] = sql
            if let operation { attributes["db.operation.name"] = operation }
            switch node.kind {
            case .tcp(let host, let port):
                attributes["server.address"] = host
                attributes["server.port"] = port
            case .unix(let path): attributes["server.address"] = path
            case .abstract: attributes["server.address"] = node.description
            }
            if logsParameters {
                for (index, value) in parameters.enumerated() {
                    attributes["db.query.parameter.\(index)"] = "\(value)"
                }
            }
        }
        return span
    }

    /// A transaction's span, started; the caller ends it.
    func startTransaction(kind: DqliteTransactionKind) -> any Span {
        let span = tracer.startSpan(
            "transaction \(database)", context: parent ?? .current ?? .topLevel, ofKind: .client)
        guard span.isRecording else { return span }
        span.updateAttributes { attributes in
            attributes["db.system.name"] = "dqlite"
            attributes["db.namespace"] = database
            attributes["dqlite.transaction.kind"] = kind.rawValue
        }
        return span
    }

    /// The same settings, for statements inside `span`.
    func within(_ span: any Span) -> StatementTracing {
        var copy = self
        copy.parent = span.context
        return copy
    }

    /// Records `error` on `span` (which the caller still ends).
    static func record(_ error: any Error, on span: any Span) {
        span.recordError(error)
        span.setStatus(SpanStatus(code: .error))
        guard span.isRecording else { return }
        if let error = error as? DqliteError {
            span.attributes["error.type"] = error.code.name
            if let code = error.resultCode { span.attributes["db.response.status_code"] = "\(code.rawValue)" }
        } else {
            span.attributes["error.type"] = "\(type(of: error))"
        }
    }

    /// Runs `body` inside a statement span (ended when `body` returns or throws).
    func traced<Result>(
        _ sql: String, parameters: [DqliteValue], node: DqliteNodeAddress, _ body: () async throws -> Result
    ) async throws -> Result {
        let span = startStatement(sql, parameters: parameters, node: node)
        defer { span.end() }
        do {
            return try await body()
        } catch {
            Self.record(error, on: span)
            throw error
        }
    }

    /// The statement's first keyword, upper-cased (`SELECT`, `INSERT`, `WITH`, …), if it starts with one.
    static func operationName(of sql: String) -> String? {
        let keyword = sql.drop(while: { $0.isWhitespace || $0 == "(" }).prefix(while: { $0.isLetter })
        return keyword.isEmpty ? nil : keyword.uppercased()
    }
}
