/// The outcome of a statement that returns no rows.
public struct DqliteExecResult: Sendable, Hashable, CustomStringConvertible {
    /// `sqlite3_last_insert_rowid` after the statement (connection-wide and sticky: a statement that inserts
    /// nothing repeats the previous value).
    public var lastInsertID: Int64
    /// Rows changed by the statement (`sqlite3_changes`).
    public var rowsAffected: Int

    public init(lastInsertID: Int64, rowsAffected: Int) {
        self.lastInsertID = lastInsertID
        self.rowsAffected = rowsAffected
    }

    public var description: String { "lastInsertID=\(lastInsertID) rowsAffected=\(rowsAffected)" }
}
