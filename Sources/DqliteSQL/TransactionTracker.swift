/// Follows the transaction state of one connection from the statements that succeeded on it: the shell says
/// that a transaction was lost with its connection, and the client rolls back a pooled connection handed back
/// with a transaction open. dqlite does not report the autocommit state, so this is the best knowledge there is:
/// BEGIN and a first SAVEPOINT open a transaction; COMMIT, END, ROLLBACK and the RELEASE of the outermost
/// savepoint (when a SAVEPOINT opened it) close it.
public struct TransactionTracker: Hashable, Sendable {
    /// Whether a transaction is believed open.
    public private(set) var isOpen = false
    /// Savepoints opened since a SAVEPOINT started the transaction (0 when BEGIN started it).
    private var savepointDepth = 0

    /// Creates a tracker with no transaction open.
    public init() {}

    /// Records a statement that ran to completion on the session.
    public mutating func record(succeeded control: TransactionControl?) {
        switch control {
        case .begin?:
            isOpen = true
            savepointDepth = 0
        case .commit?, .rollback?:
            reset()
        case .savepoint?:
            if !isOpen {
                isOpen = true
                savepointDepth = 1
            } else if savepointDepth > 0 {
                savepointDepth += 1
            }
        case .release?:
            guard savepointDepth > 0 else { return }
            savepointDepth -= 1
            if savepointDepth == 0 { isOpen = false }
        case .rollbackToSavepoint?, nil:
            break
        }
    }

    /// Forgets the transaction (its connection is gone).
    public mutating func reset() {
        isOpen = false
        savepointDepth = 0
    }
}
