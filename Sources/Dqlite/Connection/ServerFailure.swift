/// How the client treats a FAILURE response.
enum ServerFailure {
    /// True when the failure means this connection must not be used again (protocol.md §4.2): the node is no
    /// longer (or never was) the leader, leadership was lost mid-write, the server closed our database
    /// ("no database opened" after a successful OPEN: leadership changed), or a code-0 failure other than
    /// "empty statement" (historically: an error the server failed to describe).
    static func isConnectionFatal(code: UInt64, message: String, databaseOpened: Bool) -> Bool {
        switch code {
        case 10250, 10506, 8202, 8458: return true
        case 12: return databaseOpened && message.contains("no database opened")
        case 0: return message != "empty statement"
        default: return false
        }
    }

    /// Whether the request may have taken effect although the server answered FAILURE: only when leadership
    /// was lost while the write was being replicated.
    static func outcome(code: UInt64) -> DqliteError.Outcome {
        code == 10506 || code == 8458 ? .unknown : .notApplied
    }

    /// The error for a FAILURE response.
    static func error(code: UInt64, message: String, node: String) -> DqliteError {
        DqliteError(
            .server, message.isEmpty ? "the server reported failure code \(code)" : message,
            resultCode: DqliteResultCode(rawValue: code), node: node, outcome: outcome(code: code))
    }
}
