/// How a `ResultRenderer` prints a result.
public struct RenderOptions: Hashable, Sendable {
    /// The output mode.
    public var mode: OutputMode
    /// Whether the table and csv modes print column names (markdown always does: the format needs them;
    /// the line and json modes name every value anyway).
    public var headers: Bool
    /// What the table, line and markdown modes print for NULL (csv prints an empty unquoted field, json
    /// `null`).
    public var nullText: String
    /// Rows per batch in the table and markdown modes. Column widths are computed per batch, so memory stays
    /// bounded however many rows a query returns; a new batch starts with a border line drawn to its own
    /// widths (table) or simply continues (markdown). Values below 1 count as 1.
    public var batchSize: Int
    /// The widest a cell (or column name) may be in the table mode, in terminal columns; longer values end
    /// in `…`. Nil: no limit. Values below 2 count as 2.
    public var maxCellWidth: Int?

    /// Creates options; the defaults suit an interactive terminal.
    public init(
        mode: OutputMode = .table, headers: Bool = true, nullText: String = "NULL", batchSize: Int = 1000,
        maxCellWidth: Int? = 200
    ) {
        self.mode = mode
        self.headers = headers
        self.nullText = nullText
        self.batchSize = batchSize
        self.maxCellWidth = maxCellWidth
    }
}
