/// SQLite's default `SQLITE_MAX_VARIABLE_NUMBER`: the highest parameter index.
public let maximumParameterIndex = 32766

/// One complete SQL statement cut out of shell input, with what the shell needs to know to run it.
public struct Statement: Hashable, Sendable {
    /// The statement text, from its first significant character (leading whitespace and comments dropped)
    /// to its terminating `;` inclusive; a statement flushed at end of input may have no `;`.
    public let text: String
    /// Whether the statement produces rows and should be run as a query: `SELECT`, `VALUES`, `WITH … SELECT`,
    /// `PRAGMA`, `EXPLAIN …`, and `INSERT`/`UPDATE`/`DELETE`/`REPLACE` (also after `WITH`) with `RETURNING`.
    public let returnsRows: Bool
    /// The transaction-control verb the statement starts with, or nil for any other statement.
    public let transactionControl: TransactionControl?
    /// True for `PRAGMA name = value` (a setter, which usually returns no rows), false for `PRAGMA name` and
    /// `PRAGMA name(argument)` (queries).
    public let isPragmaAssignment: Bool
    /// True when a `RETURNING` clause appears at the top level.
    public let hasReturning: Bool
    /// The first keyword, upper-cased (`SELECT`, `INSERT`, `WITH`, `PRAGMA`, …), or nil.
    public let leadingKeyword: String?
    /// The name SQLite gives each parameter index: element `i` names parameter `i + 1`.
    ///
    /// Named parameters (`:a`, `@a`, `$a`) keep their text; numbered and anonymous ones are named `?N` (as the
    /// sqlite3 shell names them for `.param set`). An index that appears only through a gap (`?3` with no
    /// `?2`) is named `?2`.
    public let parameterNames: [String]

    /// Creates a statement from its parts (the splitter is the usual source).
    public init(
        text: String, returnsRows: Bool, transactionControl: TransactionControl?, parameterNames: [String],
        isPragmaAssignment: Bool = false, hasReturning: Bool = false, leadingKeyword: String? = nil
    ) {
        self.text = text
        self.returnsRows = returnsRows
        self.transactionControl = transactionControl
        self.parameterNames = parameterNames
        self.isPragmaAssignment = isPragmaAssignment
        self.hasReturning = hasReturning
        self.leadingKeyword = leadingKeyword
    }
}

/// A transaction-control statement, by its leading verb.
public enum TransactionControl: Hashable, Sendable {
    /// `BEGIN [DEFERRED | IMMEDIATE | EXCLUSIVE] [TRANSACTION]`.
    case begin
    /// `COMMIT` or `END`, with or without `TRANSACTION`.
    case commit
    /// `ROLLBACK [TRANSACTION]`: ends the transaction.
    case rollback
    /// `ROLLBACK [TRANSACTION] TO [SAVEPOINT] name`: the transaction stays open.
    case rollbackToSavepoint
    /// `SAVEPOINT name` (starts a transaction when none is open).
    case savepoint
    /// `RELEASE [SAVEPOINT] name` (commits when it releases the outermost savepoint).
    case release
}
