/// How the client reacts to a failure (protocol.md §4.2, field-notes Part 1 B–D).
enum FailureKind: Equatable {
    /// SQLITE_BUSY (not BUSY_SNAPSHOT inside a transaction): the statement did not run; re-send after backoff.
    case busy
    /// The node is not the leader (the request was refused before running) or the database was closed by a
    /// leadership change before the request ran: find the leader again; safe to retry anything.
    case notLeader
    /// The connection failed before the request could have reached the server: safe to retry.
    case connectionBeforeSend
    /// Leadership was lost while writing, or the connection failed after the request was sent: the
    /// statement may or may not have run.
    case indeterminate
    /// Anything else: report it.
    case final

    init(_ error: DqliteError, inTransaction: Bool) {
        switch error.code {
        case .server:
            switch error.resultCode {
            case .SQLITE_BUSY_SNAPSHOT? where inTransaction: self = .final
            case .SQLITE_BUSY?, .SQLITE_BUSY_RECOVERY?, .SQLITE_BUSY_TIMEOUT?, .SQLITE_BUSY_SNAPSHOT?: self = .busy
            case .SQLITE_IOERR_NOT_LEADER?, .SQLITE_IOERR_NOT_LEADER_LEGACY?: self = .notLeader
            case .SQLITE_IOERR_LEADERSHIP_LOST?, .SQLITE_IOERR_LEADERSHIP_LOST_LEGACY?: self = .indeterminate
            case .SQLITE_NOTFOUND? where error.message.contains("no database opened"): self = .notLeader
            // dqlite 1.11 during a leadership transfer: raft_apply fails with RAFT_NOTLEADER (7), returned as
            // the SQLite status; the message is sqlite3_errmsg's text for SQLITE_DONE. Nothing was appended.
            case .SQLITE_NOMEM? where error.message == Self.raftNotLeaderMessage: self = .notLeader
            default: self = .final
            }
        case .connectFailed:
            self = .connectionBeforeSend
        case .connectionClosed, .timeout, .protocolViolation, .tls, .connectionPoisoned:
            self = error.outcome == .notApplied ? .connectionBeforeSend : .indeterminate
        default:
            self = .final
        }
    }

    /// The message that comes with code 7 when dqlite 1.11 passes raft's RAFT_NOTLEADER through as a
    /// SQLite status (the write was refused before it was appended to the log).
    static let raftNotLeaderMessage = "no more rows available"

    /// True for failures that mean the connection no longer reaches the leader.
    var meansLeaderChanged: Bool { self == .notLeader || self == .indeterminate }
}

// MARK: - FAILURE responses (the connection's view)

extension FailureKind {
    /// True when a FAILURE means this connection must not be used again (protocol.md §4.2): the node is no
    /// longer (or never was) the leader, leadership was lost mid-write, the server closed our database
    /// ("no database opened" after a successful OPEN: leadership changed), or a code-0 failure other than
    /// "empty statement" (historically: an error the server failed to describe).
    static func isConnectionFatal(code: UInt64, message: String, databaseOpened: Bool) -> Bool {
        // Exact codes: a primary-code pattern in a switch would match its whole family.
        switch DqliteResultCode(rawValue: code) {
        case let code where code == .SQLITE_OK: return message != "empty statement"
        case let code where code == .SQLITE_NOTFOUND:
            return databaseOpened && message.contains("no database opened")
        case .SQLITE_IOERR_NOT_LEADER, .SQLITE_IOERR_NOT_LEADER_LEGACY, .SQLITE_IOERR_LEADERSHIP_LOST,
            .SQLITE_IOERR_LEADERSHIP_LOST_LEGACY:
            return true
        default: return false
        }
    }

    /// Whether a request may have taken effect although the server answered FAILURE: only when leadership
    /// was lost while the write was being replicated.
    static func outcome(ofFailure code: UInt64) -> DqliteError.Outcome {
        switch DqliteResultCode(rawValue: code) {
        case .SQLITE_IOERR_LEADERSHIP_LOST, .SQLITE_IOERR_LEADERSHIP_LOST_LEGACY: return .unknown
        default: return .notApplied
        }
    }

    /// The error for a FAILURE response.
    static func serverError(code: UInt64, message: String, node: String) -> DqliteError {
        DqliteError(
            .server, message.isEmpty ? "the server reported failure code \(code)" : message,
            resultCode: DqliteResultCode(rawValue: code), node: node, outcome: outcome(ofFailure: code))
    }
}

/// SQLite's busy-handler delays (ms), then 100 ms steps; ±25 % jitter.
enum BusyBackoff {
    static let delays: [Int] = [1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100]

    static func delay(attempt: Int) -> Duration {
        let base = attempt < delays.count ? delays[attempt] : 100
        return .microseconds(Int(Double(base * 1000) * Double.random(in: 0.75...1.25)))
    }
}
