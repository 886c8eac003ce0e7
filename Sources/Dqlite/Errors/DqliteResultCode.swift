import DqliteWire

/// A result code in a FAILURE response: an SQLite result code (primary or extended) or one of dqlite's own.
///
/// Match a family with its primary code, GRDB-style:
///
/// ```swift
/// switch error.resultCode {
/// case .SQLITE_CONSTRAINT_UNIQUE?: …      // exactly this extended code
/// case .SQLITE_CONSTRAINT?: …             // any constraint failure (primary code match)
/// default: …
/// }
/// ```
public struct DqliteResultCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The code as the server sent it.
    public let rawValue: UInt64

    /// Creates a code.
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// True for dqlite's own codes (1000–1099), which must not be masked to a primary code.
    public var isDqliteCode: Bool { (1000..<1100).contains(rawValue) }

    /// The primary code: `rawValue & 0xFF` for SQLite codes; dqlite's own codes are kept whole.
    public var primary: DqliteResultCode {
        isDqliteCode ? self : DqliteResultCode(rawValue: rawValue & 0xFF)
    }

    /// The symbolic name, e.g. `"SQLITE_CONSTRAINT_UNIQUE"`, or nil for a code this SDK does not know.
    public var name: String? { ResultCodeNames.name(of: rawValue) }

    public var description: String { name ?? "code \(rawValue)" }

    /// Matches a code against a pattern: equal codes, or a primary-code pattern that matches the code's
    /// primary code.
    public static func ~= (pattern: DqliteResultCode, code: DqliteResultCode) -> Bool {
        pattern == code || (pattern == pattern.primary && pattern == code.primary)
    }

    /// True when this code is `pattern`, or `pattern` is a primary code and this code belongs to its family:
    /// `error.resultCode?.matches(.SQLITE_CONSTRAINT) == true` for every constraint failure. (Beware
    /// `error.resultCode ~= .SQLITE_CONSTRAINT`: with the optional on the left that is the standard library's
    /// plain equality; write the pattern on the left, or `case .SQLITE_CONSTRAINT?:` in a switch.)
    public func matches(_ pattern: DqliteResultCode) -> Bool { pattern ~= self }

    /// Matches an optional code (e.g. `error.resultCode`).
    public static func ~= (pattern: DqliteResultCode, code: DqliteResultCode?) -> Bool {
        guard let code else { return false }
        return pattern ~= code
    }

    // MARK: Primary SQLite codes

    public static let SQLITE_OK = DqliteResultCode(rawValue: 0)
    public static let SQLITE_ERROR = DqliteResultCode(rawValue: 1)
    public static let SQLITE_INTERNAL = DqliteResultCode(rawValue: 2)
    public static let SQLITE_PERM = DqliteResultCode(rawValue: 3)
    public static let SQLITE_ABORT = DqliteResultCode(rawValue: 4)
    public static let SQLITE_BUSY = DqliteResultCode(rawValue: 5)
    public static let SQLITE_LOCKED = DqliteResultCode(rawValue: 6)
    public static let SQLITE_NOMEM = DqliteResultCode(rawValue: 7)
    public static let SQLITE_READONLY = DqliteResultCode(rawValue: 8)
    public static let SQLITE_INTERRUPT = DqliteResultCode(rawValue: 9)
    public static let SQLITE_IOERR = DqliteResultCode(rawValue: 10)
    public static let SQLITE_CORRUPT = DqliteResultCode(rawValue: 11)
    public static let SQLITE_NOTFOUND = DqliteResultCode(rawValue: 12)
    public static let SQLITE_FULL = DqliteResultCode(rawValue: 13)
    public static let SQLITE_CANTOPEN = DqliteResultCode(rawValue: 14)
    public static let SQLITE_PROTOCOL = DqliteResultCode(rawValue: 15)
    public static let SQLITE_SCHEMA = DqliteResultCode(rawValue: 17)
    public static let SQLITE_TOOBIG = DqliteResultCode(rawValue: 18)
    public static let SQLITE_CONSTRAINT = DqliteResultCode(rawValue: 19)
    public static let SQLITE_MISMATCH = DqliteResultCode(rawValue: 20)
    public static let SQLITE_MISUSE = DqliteResultCode(rawValue: 21)
    public static let SQLITE_AUTH = DqliteResultCode(rawValue: 23)
    public static let SQLITE_RANGE = DqliteResultCode(rawValue: 25)
    public static let SQLITE_NOTADB = DqliteResultCode(rawValue: 26)
    public static let SQLITE_ROW = DqliteResultCode(rawValue: 100)
    public static let SQLITE_DONE = DqliteResultCode(rawValue: 101)

    // MARK: Extended SQLite codes

    public static let SQLITE_BUSY_RECOVERY = DqliteResultCode(rawValue: 261)
    public static let SQLITE_BUSY_SNAPSHOT = DqliteResultCode(rawValue: 517)
    public static let SQLITE_BUSY_TIMEOUT = DqliteResultCode(rawValue: 773)
    public static let SQLITE_CONSTRAINT_CHECK = DqliteResultCode(rawValue: 275)
    public static let SQLITE_CONSTRAINT_FOREIGNKEY = DqliteResultCode(rawValue: 787)
    public static let SQLITE_CONSTRAINT_NOTNULL = DqliteResultCode(rawValue: 1299)
    public static let SQLITE_CONSTRAINT_PRIMARYKEY = DqliteResultCode(rawValue: 1555)
    public static let SQLITE_CONSTRAINT_TRIGGER = DqliteResultCode(rawValue: 1811)
    public static let SQLITE_CONSTRAINT_UNIQUE = DqliteResultCode(rawValue: 2067)
    public static let SQLITE_CONSTRAINT_ROWID = DqliteResultCode(rawValue: 2579)
    /// `SQLITE_IOERR | 40 << 8`: the request needs the leader and this node is not (or no longer) it.
    public static let SQLITE_IOERR_NOT_LEADER = DqliteResultCode(rawValue: 10250)
    /// `SQLITE_IOERR | 41 << 8`: leadership was lost while a write was replicated; its outcome is unknown.
    public static let SQLITE_IOERR_LEADERSHIP_LOST = DqliteResultCode(rawValue: 10506)
    /// Very old servers' NOT_LEADER (`SQLITE_IOERR | 32 << 8`).
    public static let SQLITE_IOERR_NOT_LEADER_LEGACY = DqliteResultCode(rawValue: 8202)
    /// Very old servers' LEADERSHIP_LOST (`SQLITE_IOERR | 33 << 8`).
    public static let SQLITE_IOERR_LEADERSHIP_LOST_LEGACY = DqliteResultCode(rawValue: 8458)

    // MARK: dqlite's own codes

    /// `DQLITE_NOTFOUND`: e.g. DUMP of an unknown database (1.18.3+).
    public static let DQLITE_NOTFOUND = DqliteResultCode(rawValue: 1002)
    /// `DQLITE_PARSE`: an unknown request type, schema or format, or a misread parameter tuple.
    public static let DQLITE_PARSE = DqliteResultCode(rawValue: 1005)
}
