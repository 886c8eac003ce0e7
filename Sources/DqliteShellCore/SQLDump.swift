import DqliteWire

/// `.dump` without a file: the database as SQL text that recreates it (like sqlite3's `.dump`), streamed
/// table by table so memory stays bounded.
enum SQLDump {
    /// Writes the dump of the session's database to `output`.
    static func write(session: any ShellSession, to output: any ShellTextSink) async throws {
        var schema = RowCollector(limit: 1_000_000)
        _ = try await session.run(
            """
            SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL \
            ORDER BY CASE type WHEN 'table' THEN 0 ELSE 1 END, rowid;
            """, parameters: [], returnsRows: true, sink: &schema)
        output.write("PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\n")
        var hasSequence = false
        for entry in schema.rows where text(entry, 0) == "table" {
            let name = text(entry, 1)
            if name == "sqlite_sequence" {
                hasSequence = true
                continue
            }
            if name.hasPrefix("sqlite_") { continue }
            output.write(text(entry, 2) + ";\n")
            try await writeRows(of: name, session: session, to: output)
        }
        if hasSequence {
            output.write("DELETE FROM sqlite_sequence;\n")
            try await writeRows(of: "sqlite_sequence", session: session, to: output)
        }
        for entry in schema.rows where text(entry, 0) != "table" {
            output.write(text(entry, 2) + ";\n")
        }
        output.write("COMMIT;\n")
        output.flush()
    }

    private static func writeRows(of table: String, session: any ShellSession, to output: any ShellTextSink)
        async throws
    {
        var sink = InsertWriter(prefix: "INSERT INTO \(identifier(table)) VALUES(", output: output)
        _ = try await session.run(
            "SELECT * FROM \(identifier(table));", parameters: [], returnsRows: true, sink: &sink)
    }

    private static func text(_ row: [WireValue], _ index: Int) -> String {
        guard index < row.count else { return "" }
        switch row[index] {
        case .text(let value), .iso8601(let value): return value
        default: return ""
        }
    }

    /// `name` as a quoted SQL identifier.
    static func identifier(_ name: String) -> String {
        var quoted = "\""
        for character in name {
            if character == "\"" { quoted.append("\"") }
            quoted.append(character)
        }
        return quoted + "\""
    }

    /// A value as an SQL literal that reads back as the same value (text kept byte for byte, unlike the
    /// display form of `.param list`).
    static func literal(_ value: WireValue) -> String {
        switch value {
        case .integer(let v), .unixTime(let v): return String(v)
        case .float(let v):
            if v.isNaN { return "NULL" }
            if v.isInfinite { return v < 0 ? "-1e999" : "1e999" }
            return v.description
        case .text(let v), .iso8601(let v):
            var quoted = "'"
            for character in v {
                if character == "'" { quoted.append("'") }
                quoted.append(character)
            }
            return quoted + "'"
        case .blob(let v): return "x'" + ValueFormatter.hex(v) + "'"
        case .null: return "NULL"
        case .boolean(let v): return v ? "1" : "0"
        }
    }

    /// Writes each row as an INSERT statement.
    private struct InsertWriter: ShellRowSink {
        let prefix: String
        let output: any ShellTextSink

        mutating func begin(columns: [String]) {}

        mutating func row(_ values: [WireValue]) throws {
            try Task.checkCancellation()
            output.write(prefix + values.map(SQLDump.literal).joined(separator: ",") + ");\n")
            if let failure = output.failure { throw ShellFailure(message: failure) }
            output.flushIfStale()
        }
    }
}

/// Collects a small result (schema listings and the like), refusing more than `limit` rows.
struct RowCollector: ShellRowSink {
    let limit: Int
    private(set) var columns: [String] = []
    private(set) var rows: [[WireValue]] = []

    init(limit: Int) {
        self.limit = limit
    }

    mutating func begin(columns: [String]) {
        self.columns = columns
    }

    mutating func row(_ values: [WireValue]) throws {
        guard rows.count < limit else { throw ShellFailure(message: "more than \(limit) rows") }
        rows.append(values)
    }
}

/// Renders rows to a sink as they arrive.
struct RenderingSink: ShellRowSink {
    let options: RenderOptions
    let output: any ShellTextSink
    private var renderer: ResultRenderer?

    init(options: RenderOptions, output: any ShellTextSink) {
        self.options = options
        self.output = output
    }

    mutating func begin(columns: [String]) {
        renderer = ResultRenderer(columns: columns, options: options)
    }

    mutating func row(_ values: [WireValue]) throws {
        try Task.checkCancellation()
        var writer = SinkWriter(sink: output)
        renderer?.write(row: values, to: &writer)
        if let failure = output.failure { throw ShellFailure(message: failure) }
        output.flushIfStale()
    }

    /// Closes the result (bottom border, closing bracket); also after a failure part-way.
    mutating func finish() {
        var writer = SinkWriter(sink: output)
        renderer?.finish(to: &writer)
    }
}
