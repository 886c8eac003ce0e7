/// How a transaction takes its locks (SQLite's `BEGIN DEFERRED | IMMEDIATE | EXCLUSIVE`).
///
/// dqlite serializes writes on the leader whatever the kind; `immediate` makes the transaction claim the write
/// lock at BEGIN, so a read-then-write transaction meets SQLITE_BUSY at its start (where it is retried) rather
/// than at its first write.
public enum DqliteTransactionKind: String, Sendable, Hashable, CaseIterable {
    /// Locks are taken when first needed (SQLite's default).
    case deferred
    /// The write lock is taken at BEGIN.
    case immediate
    /// As `immediate` in WAL mode, which dqlite uses.
    case exclusive

    /// The BEGIN statement for this kind.
    var beginStatement: DqliteQuery {
        switch self {
        case .deferred: "BEGIN DEFERRED"
        case .immediate: "BEGIN IMMEDIATE"
        case .exclusive: "BEGIN EXCLUSIVE"
        }
    }
}
