import DqliteWire

/// Prints one query result in an output mode, streaming: rows go in one at a time as they arrive from the
/// server and come out with bounded memory (the table and markdown modes hold at most one batch of
/// formatted rows; see `RenderOptions.batchSize`).
///
/// ```swift
/// var renderer = ResultRenderer(columns: ["id", "name"], options: RenderOptions(mode: .table))
/// for row in rows { renderer.write(row: row, to: &output) }
/// renderer.finish(to: &output)
/// ```
///
/// Formats, per mode (each line ends in `\n`, csv rows in `\r\n`):
/// - `table`: sqlite3's `.mode table`: `+---+` borders, column names centred, cells left-aligned, NULL as
///   `RenderOptions.nullText`, blobs as `x'…'`, control characters escaped (`\n`, `\x1b`, …), cells longer
///   than `RenderOptions.maxCellWidth` cut with `…`. A result with columns but no rows prints its header.
/// - `csv`: RFC 4180, a header line when `RenderOptions.headers`; NULL is an empty field, an empty string
///   `""`, blobs are hex digits.
/// - `json`: sqlite3's layout, `[{"a":1},\n{"a":2}]`, and `[]` for no rows. Integers are exact, floats
///   round-trip, NaN and ±infinity are the strings `"NaN"`, `"Infinity"`, `"-Infinity"`, blobs are strings
///   of lowercase hex digits, booleans `true`/`false`, NULL and empty ISO 8601 values `null`, unix times
///   integers. Duplicate column names give duplicate keys, as in sqlite3.
/// - `line`: sqlite3's `.mode line`: `name = value`, names right-aligned to at least 5 columns, a blank
///   line between rows, control characters escaped.
/// - `markdown`: a GitHub table like sqlite3's `.mode markdown`, with `|` escaped as `\|`.
///
/// Unix times print as their integer value in every mode; booleans as `true`/`false`. A row with fewer
/// values than columns is padded with NULL; extra values are ignored. Call `finish(to:)` even when the
/// query fails part-way, so the json mode's array is closed.
public struct ResultRenderer: Sendable {
    /// The column names.
    public let columns: [String]
    /// How the result is printed.
    public let options: RenderOptions
    private var batch: [[TableLayout.Cell]] = []
    private var rowCount = 0
    private var finished = false
    private var batchesPrinted = 0
    /// The border that closes the table: drawn to the widths of the last batch.
    private var closingBorder = ""
    private let lineNameWidth: Int

    /// Creates a renderer for a result with the given column names.
    public init(columns: [String], options: RenderOptions) {
        self.columns = columns
        self.options = options
        lineNameWidth = max(5, columns.map { DisplayWidth.of(ValueFormatter.escapingControlCharacters($0)) }.max() ?? 0)
    }

    /// Renders a whole result to a string (convenient for small results and tests).
    public static func render(columns: [String], rows: [[WireValue]], options: RenderOptions) -> String {
        var output = ""
        var renderer = ResultRenderer(columns: columns, options: options)
        for row in rows { renderer.write(row: row, to: &output) }
        renderer.finish(to: &output)
        return output
    }

    /// Renders one row (or buffers it until its batch is full, in the table and markdown modes).
    public mutating func write(row: [WireValue], to output: inout some TextOutputStream) {
        guard !finished else { return }
        switch options.mode {
        case .table, .markdown:
            batch.append(cells(of: row))
            if batch.count >= max(options.batchSize, 1) { flushBatch(to: &output) }
        case .csv:
            if rowCount == 0 { writeCSVHeader(to: &output) }
            output.write(padded(row).map(CSVField.field).joined(separator: ",") + "\r\n")
        case .json:
            output.write(rowCount == 0 ? "[" : ",\n")
            let members = zip(columns, padded(row)).map { JSONText.string($0) + ":" + JSONText.value($1) }
            output.write("{" + members.joined(separator: ",") + "}")
        case .line:
            writeLineRecord(row, to: &output)
        }
        rowCount += 1
    }

    /// Prints what is still buffered and closes the result (bottom border, closing `]`, …). Rows written
    /// after this are ignored.
    public mutating func finish(to output: inout some TextOutputStream) {
        guard !finished else { return }
        finished = true
        switch options.mode {
        case .table:
            if !batch.isEmpty {
                flushBatch(to: &output)
            } else if rowCount == 0, options.headers, !columns.isEmpty {
                let header = headerCells
                let layout = TableLayout(header: header, rows: [], columnCount: columns.count)
                output.write(layout.border() + layout.centredRow(header) + layout.border())
                return
            }
            output.write(closingBorder)
        case .markdown:
            if !batch.isEmpty || (rowCount == 0 && !columns.isEmpty) { flushBatch(to: &output) }
        case .csv:
            if rowCount == 0 { writeCSVHeader(to: &output) }
        case .json:
            output.write(rowCount == 0 ? "[]\n" : "]\n")
        case .line:
            break
        }
    }

    // MARK: Table and markdown

    private var headerCells: [TableLayout.Cell] {
        columns.map { name in
            let text = ValueFormatter.escapingControlCharacters(name)
            return TableLayout.Cell(options.mode == .markdown ? escapingPipes(text) : capped(text))
        }
    }

    private func cells(of row: [WireValue]) -> [TableLayout.Cell] {
        padded(row).map { value in
            let limit = options.mode == .table ? options.maxCellWidth.map { max($0, 2) } : nil
            var text = ValueFormatter.displayText(
                value, nullText: options.nullText, blobByteLimit: limit.map { $0 / 2 })
            if let limit, case .text = value, text.utf8.count > limit * 4 {
                // Only the start can be shown: do not escape and measure megabytes of text.
                text = String(text.prefix(limit * 2))
            }
            text = ValueFormatter.escapingControlCharacters(text)
            return TableLayout.Cell(options.mode == .markdown ? escapingPipes(text) : capped(text))
        }
    }

    private func capped(_ text: String) -> String {
        guard let limit = options.maxCellWidth, options.mode == .table else { return text }
        return DisplayWidth.truncate(text, to: limit)
    }

    private func escapingPipes(_ text: String) -> String {
        guard text.utf8.contains(UInt8(ascii: "|")) else { return text }
        var out = ""
        for character in text {
            if character == "|" { out += "\\" }
            out.append(character)
        }
        return out
    }

    private mutating func flushBatch(to output: inout some TextOutputStream) {
        let header = batchesPrinted == 0 && (options.headers || options.mode == .markdown) ? headerCells : nil
        let layout = TableLayout(header: header, rows: batch, columnCount: columns.count)
        var text = ""
        if options.mode == .table {
            text += layout.border()
            if let header { text += layout.centredRow(header) + layout.border() }
            closingBorder = layout.border()
        } else if let header {
            text += layout.centredRow(header) + layout.markdownSeparator()
        }
        output.write(text)
        for row in batch { output.write(layout.row(row)) }
        batch.removeAll(keepingCapacity: true)
        batchesPrinted += 1
    }

    // MARK: Other modes

    private func padded(_ row: [WireValue]) -> [WireValue] {
        if row.count == columns.count { return row }
        if row.count > columns.count { return Array(row.prefix(columns.count)) }
        return row + [WireValue](repeating: .null, count: columns.count - row.count)
    }

    private func writeCSVHeader(to output: inout some TextOutputStream) {
        guard options.headers, !columns.isEmpty else { return }
        output.write(columns.map(CSVField.quote).joined(separator: ",") + "\r\n")
    }

    private func writeLineRecord(_ row: [WireValue], to output: inout some TextOutputStream) {
        var text = rowCount > 0 ? "\n" : ""
        for (name, value) in zip(columns, padded(row)) {
            let label = ValueFormatter.escapingControlCharacters(name)
            let display = ValueFormatter.displayText(value, nullText: options.nullText)
            text +=
                String(repeating: " ", count: max(0, lineNameWidth - DisplayWidth.of(label))) + label + " = "
                + ValueFormatter.escapingControlCharacters(display) + "\n"
        }
        output.write(text)
    }
}
