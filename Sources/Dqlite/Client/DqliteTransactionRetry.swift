/// Whether `withTransaction` re-runs its closure when the transaction is lost to a leadership change.
public struct DqliteTransactionRetry: Sendable, Hashable {
    /// Most runs of the closure (1 = no retry).
    public var maximumAttempts: Int

    /// Never re-run: a transaction lost to a leadership change throws
    /// ``DqliteError/Code/transactionAborted``.
    public static let never = DqliteTransactionRetry(maximumAttempts: 1)

    /// Re-run the **whole** closure on a fresh connection to the new leader when the transaction was aborted by
    /// a leadership change (nothing of it was committed). The closure must be safe to run again: do not let
    /// side effects outside the database escape it. A COMMIT whose answer was lost is never retried
    /// (``DqliteError/Code/ambiguousCommit``).
    public static func onLeadershipChange(maximumAttempts: Int = 3) -> DqliteTransactionRetry {
        DqliteTransactionRetry(maximumAttempts: max(1, maximumAttempts))
    }
}
