/// The one error type of the dqlite client.
///
/// ``code`` says what kind of failure it is (an extensible set: match on the static members);
/// ``resultCode`` carries the server's code for ``Code/server`` failures; ``node`` names the node involved.
/// Errors from leader discovery list every node that was tried and why in ``attempts``.
public struct DqliteError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is. New codes may be added; match on the static members.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// A stable name, e.g. `"timeout"`.
        public let name: String

        private init(_ name: String) { self.name = name }

        public var description: String { name }

        /// The server answered with FAILURE; see ``DqliteError/resultCode`` and ``DqliteError/message``.
        public static let server = Code("server")
        /// The connection could not be established (refused, unreachable, name not resolved, connect timeout).
        public static let connectFailed = Code("connectFailed")
        /// The connection was closed or reset, or the peer stopped answering mid-call.
        public static let connectionClosed = Code("connectionClosed")
        /// A deadline passed before the answer arrived.
        public static let timeout = Code("timeout")
        /// The calling task was cancelled.
        public static let cancelled = Code("cancelled")
        /// The server sent bytes that do not decode, or a message that does not answer the request.
        public static let protocolViolation = Code("protocolViolation")
        /// TLS failed (handshake, certificate verification, configuration).
        public static let tls = Code("tls")
        /// An address that cannot be parsed or must not be dialled.
        public static let invalidAddress = Code("invalidAddress")
        /// The request was refused on the client side (it would crash, hang or misuse the server).
        public static let invalidRequest = Code("invalidRequest")
        /// Another operation is in progress on this connection (one request at a time).
        public static let connectionBusy = Code("connectionBusy")
        /// The connection failed earlier and was closed; it cannot be used again.
        public static let connectionPoisoned = Code("connectionPoisoned")
        /// No node could be confirmed as the leader; see ``DqliteError/attempts``.
        public static let noLeader = Code("noLeader")
        /// Voters answered but none knows a leader: the cluster has lost its quorum.
        public static let noQuorum = Code("noQuorum")
        /// A membership change was sent but did not become visible in the cluster before the deadline.
        public static let notConfirmed = Code("notConfirmed")
        /// A node store could not be read or written.
        public static let nodeStore = Code("nodeStore")
        /// The client was shut down.
        public static let poolClosed = Code("poolClosed")
        /// Every pooled connection is busy and the wait queue is full, or no connection freed up before the
        /// caller's deadline.
        public static let poolExhausted = Code("poolExhausted")
        /// A value could not be encoded or decoded (see ``DqliteError/underlying``, a ``DqliteCodingError``).
        public static let coding = Code("coding")
        /// The transaction was rolled back by the server or lost with its connection (e.g. leadership
        /// changed); nothing in it was committed. Restart it from the beginning.
        public static let transactionAborted = Code("transactionAborted")
        /// COMMIT (or an autocommit write) was sent and its answer lost: it may or may not have been applied.
        public static let ambiguousCommit = Code("ambiguousCommit")
        /// The statement is refused because this server mishandles it (e.g. RETURNING before 1.18.2).
        public static let unsupported = Code("unsupported")
        /// A query expected to return a row (``DqliteRowSequence/one()``) returned none.
        public static let noRows = Code("noRows")
    }

    /// One node tried during leader discovery, and what happened.
    public struct Attempt: Sendable, CustomStringConvertible {
        /// The node dialled.
        public var address: String
        /// Why it did not lead to a confirmed leader: "connection refused", "timeout", "no leader known",
        /// "redirected to 10.0.0.2:9001", ...
        public var outcome: String

        public init(address: String, outcome: String) {
            self.address = address
            self.outcome = outcome
        }

        public var description: String { "\(address): \(outcome)" }
    }

    /// Whether the operation that failed may have taken effect on the server.
    public enum Outcome: Hashable, Sendable {
        /// It certainly did not: nothing was sent, or the server refused it before running it.
        case notApplied
        /// It may or may not have: the request was sent and the answer was lost (connection closed, timeout)
        /// or the server lost leadership while replicating it. Never retry such a write blindly.
        case unknown
    }

    /// The kind of failure.
    public var code: Code
    /// A human-readable explanation (for ``Code/server``: the server's message).
    public var message: String
    /// The server's result code, for ``Code/server``.
    public var resultCode: DqliteResultCode?
    /// The node involved, as an address string.
    public var node: String?
    /// Leader discovery: every node tried and why it failed.
    public var attempts: [Attempt]
    /// The lower-level error, if any (a socket error, a TLS error, a DqliteWire decoding error).
    public var underlying: (any Error)?
    /// Whether the failed operation may have taken effect.
    public var outcome: Outcome

    /// Creates an error.
    public init(
        _ code: Code, _ message: String, resultCode: DqliteResultCode? = nil, node: String? = nil,
        attempts: [Attempt] = [], underlying: (any Error)? = nil, outcome: Outcome = .notApplied
    ) {
        self.code = code
        self.message = message
        self.resultCode = resultCode
        self.node = node
        self.attempts = attempts
        self.underlying = underlying
        self.outcome = outcome
    }

    public var description: String {
        var text = message
        if let resultCode { text += " (\(resultCode))" } else { text += " (\(code))" }
        if let node { text += " [node \(node)]" }
        if !attempts.isEmpty { text += ": " + attempts.map(\.description).joined(separator: "; ") }
        return text
    }

    /// Matches an error against a code: `catch let e as DqliteError where e.code == .timeout` or
    /// `case DqliteError.Code.timeout:` in a switch over `error.code`.
    public static func ~= (pattern: Code, error: DqliteError) -> Bool { error.code == pattern }
}
