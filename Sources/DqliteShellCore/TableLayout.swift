/// The lines of the table and markdown modes, for cells that are already escaped and measured.
struct TableLayout {
    /// Column widths in terminal columns.
    let widths: [Int]

    /// The widths that fit `header` (when given) and every row of `rows`; at least 1 each.
    init(header: [Cell]?, rows: [[Cell]], columnCount: Int) {
        var widths = [Int](repeating: 1, count: columnCount)
        for row in (header.map { [$0] } ?? []) + rows {
            for (index, cell) in row.enumerated() where index < columnCount {
                widths[index] = max(widths[index], cell.width)
            }
        }
        self.widths = widths
    }

    /// `+----+-----+`
    func border() -> String {
        "+" + widths.map { String(repeating: "-", count: $0 + 2) }.joined(separator: "+") + "+\n"
    }

    /// `|-----|------|`
    func markdownSeparator() -> String {
        "|" + widths.map { String(repeating: "-", count: $0 + 2) }.joined(separator: "|") + "|\n"
    }

    /// `| a  | bb  |` with cells left-aligned.
    func row(_ cells: [Cell]) -> String {
        line(cells) { cell, width in cell.text + String(repeating: " ", count: width - cell.width) }
    }

    /// `| a  |  b  |` with cells centred, extra space on the right (as sqlite3 centres column names).
    func centredRow(_ cells: [Cell]) -> String {
        line(cells) { cell, width in
            let left = (width - cell.width) / 2
            return String(repeating: " ", count: left) + cell.text
                + String(repeating: " ", count: width - cell.width - left)
        }
    }

    private func line(_ cells: [Cell], _ pad: (Cell, Int) -> String) -> String {
        var parts: [String] = []
        parts.reserveCapacity(widths.count)
        for (index, width) in widths.enumerated() {
            parts.append(pad(index < cells.count ? cells[index] : Cell(""), width))
        }
        return "| " + parts.joined(separator: " | ") + " |\n"
    }

    /// Display text and its width in terminal columns.
    struct Cell: Sendable {
        let text: String
        let width: Int

        init(_ text: String) {
            self.text = text
            self.width = DisplayWidth.of(text)
        }
    }
}
