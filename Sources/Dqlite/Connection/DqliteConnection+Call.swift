import DqliteWire
import NIOCore

extension DqliteConnection {
    /// Sends one request and returns its answer (a single frame).
    ///
    /// - A FAILURE answer throws ``DqliteError/Code/server`` with the server's code and message; a
    ///   connection-fatal one (not leader, leadership lost, database closed by the server) also poisons the
    ///   connection.
    /// - An answer of the wrong type, or bytes that do not decode, throw
    ///   ``DqliteError/Code/protocolViolation`` and poison the connection.
    /// - Requests that would crash or hang a server are refused before anything is sent
    ///   (``DqliteError/Code/invalidRequest``): HEARTBEAT, CONNECT, DESCRIBE with a format other than 0,
    ///   CLUSTER formats other than 0 and 1, and empty SQL. QUERY and QUERY_SQL answer with a row stream: use
    ///   ``withRows(_:timeout:_:)``.
    ///
    /// - Parameters:
    ///   - request: the request to send (see DqliteWire's `Request`).
    ///   - timeout: the deadline for the whole exchange (default: ``Configuration/defaultCallTimeout``).
    @discardableResult
    public func call(_ request: Request, timeout: Duration? = nil) async throws -> Response {
        try Self.validate(request, address: address)
        if request.type == .query || request.type == .querySQL {
            throw DqliteError(
                .invalidRequest, "\(request.type.name) answers with rows: use withRows(_:timeout:_:)",
                node: address.description)
        }
        let bytes = try encode(request)
        return try await exclusively {
            let frame = try await send(bytes, deadline: deadline(timeout))
            return try interpret(frame, answering: request)
        }
    }

    /// Decodes an answer and checks it against the request.
    func interpret(_ frame: Frame, answering request: Request) throws -> Response {
        var context = ResponseContext(limits: configuration.limits)
        if case .cluster(let format) = request { context.clusterFormat = format == 0 ? .format0 : .format1 }
        let response: Response
        do {
            response = try Response(decoding: frame, context: context)
        } catch {
            let failure = DqliteError(
                .protocolViolation, "undecodable \(responseName(frame)) answer to \(request.type.name): \(error)",
                node: address.description, underlying: error, outcome: .unknown)
            poison(failure)
            throw failure
        }
        if case .failure(let code, let message) = response {
            let failure = FailureKind.serverError(code: code, message: message, node: address.description)
            if FailureKind.isConnectionFatal(code: code, message: message, databaseOpened: databaseOpened) {
                poison(failure)
            }
            throw failure
        }
        guard request.type.expectedResponses.contains(response.type) else {
            let failure = DqliteError(
                .protocolViolation, "the server answered \(request.type.name) with \(response.type.name)",
                node: address.description, outcome: .unknown)
            poison(failure)
            throw failure
        }
        if case .open(let database, _, _) = request { recordOpened(database) }
        return response
    }

    private func responseName(_ frame: Frame) -> String {
        ResponseType(rawValue: frame.header.type)?.name ?? "type-\(frame.header.type)"
    }

    /// Refuses requests that would crash, hang or misuse a server (protocol.md §8).
    static func validate(_ request: Request, address: DqliteNodeAddress) throws {
        // The address is formatted only when a request is refused.
        func refuse(_ why: String) -> DqliteError { DqliteError(.invalidRequest, why, node: address.description) }
        switch request {
        case .heartbeat:
            throw refuse("HEARTBEAT is implemented by no server (1.11.1 never answers it); it is never sent")
        case .connect:
            throw refuse("CONNECT is raft peer traffic; a client must never send it")
        case .describe(let format) where format != 0:
            throw refuse("DESCRIBE with format \(format) crashes dqlite servers; only format 0 is sent")
        case .cluster(let format) where format > 1:
            throw refuse("CLUSTER format \(format) does not exist (0 or 1)")
        case .prepare(_, let sql, _):
            if isBlank(sql) { throw refuse("empty SQL (it crashed older servers)") }
        default:
            break
        }
        switch request {
        case .execSQL(let call), .querySQL(let call):
            if isBlank(call.sql) { throw refuse("empty SQL (it crashed older servers)") }
        default:
            break
        }
    }

    /// True when SQL text has nothing but whitespace.
    static func isBlank(_ sql: String) -> Bool {
        sql.utf8.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D || $0 == 0x0C || $0 == 0x0B }
    }
}
