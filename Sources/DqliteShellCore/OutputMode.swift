/// How the shell prints query results (`.mode MODE`).
public enum OutputMode: String, Hashable, Sendable, CaseIterable {
    /// An aligned table with `+---+` borders (sqlite3's `.mode table`).
    case table
    /// RFC 4180 comma-separated values.
    case csv
    /// A JSON array of objects, one per row.
    case json
    /// One `column = value` line per column, rows separated by a blank line (sqlite3's `.mode line`).
    case line
    /// A GitHub-flavoured Markdown table.
    case markdown

    /// Parses a mode name, case-insensitively; `tabular` (go-dqlite's name) means `table`.
    public init?(name: String) {
        let lower = name.lowercased()
        if lower == "tabular" {
            self = .table
        } else if let mode = OutputMode(rawValue: lower) {
            self = mode
        } else {
            return nil
        }
    }
}
