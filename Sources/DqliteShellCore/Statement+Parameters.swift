import DqliteSQL
import DqliteWire

extension Statement {
    /// The positional parameter list for this statement: each index's value from `table`, `NULL` when the
    /// table has no entry (sqlite3's behaviour for unset parameters). Empty when the statement has none.
    public func parameterValues(from table: ParameterTable) -> [WireValue] {
        parameterNames.map { table[$0] ?? .null }
    }
}
