import DqliteSQL
import DqliteShellCore
import DqliteWire
import Testing

@Suite("Rendering: batches, wide cells and display width")
struct RendererLayoutTests {
    private let rows: [[WireValue]] = [[.text("a")], [.text("bbb")], [.text("cc")]]

    @Test("table batches: widths per batch, a border between batches, the header once")
    func tableBatches() {
        let output = ResultRenderer.render(
            columns: ["v"], rows: rows, options: RenderOptions(mode: .table, batchSize: 2))
        #expect(
            output == """
                +-----+
                |  v  |
                +-----+
                | a   |
                | bbb |
                +----+
                | cc |
                +----+

                """)
    }

    @Test("markdown batches continue the same table")
    func markdownBatches() {
        let output = ResultRenderer.render(
            columns: ["v"], rows: rows, options: RenderOptions(mode: .markdown, batchSize: 2))
        #expect(output == "|  v  |\n|-----|\n| a   |\n| bbb |\n| cc |\n")
    }

    @Test("a batch is printed as soon as it is full")
    func streamingBatches() {
        var renderer = ResultRenderer(columns: ["v"], options: RenderOptions(mode: .table, batchSize: 2))
        var output = ""
        renderer.write(row: rows[0], to: &output)
        #expect(output.isEmpty)
        renderer.write(row: rows[1], to: &output)
        #expect(output == "+-----+\n|  v  |\n+-----+\n| a   |\n| bbb |\n")
        renderer.finish(to: &output)
        #expect(output.hasSuffix("| bbb |\n+-----+\n"))
    }

    @Test("a huge result renders with bounded buffering")
    func manyRows() {
        var renderer = ResultRenderer(columns: ["n"], options: RenderOptions(mode: .table, batchSize: 100))
        var lines = 0
        var sink = LineCounter { lines += 1 }
        for n in 0..<10_000 { renderer.write(row: [.integer(Int64(n))], to: &sink) }
        renderer.finish(to: &sink)
        // 3 header lines, 10,000 rows, a border after each of the 99 full batches and at the end.
        #expect(lines == 3 + 10_000 + 99 + 1)
    }

    @Test("cells and column names wider than maxCellWidth end in …")
    func capped() {
        let output = ResultRenderer.render(
            columns: ["longcolumnname"], rows: [[.text("abcdefghij")], [.text("abc")], [.text("日本語")]],
            options: RenderOptions(mode: .table, maxCellWidth: 5))
        #expect(
            output == """
                +-------+
                | long… |
                +-------+
                | abcd… |
                | abc   |
                | 日本… |
                +-------+

                """)
        let blob = ResultRenderer.render(
            columns: ["b"], rows: [[.blob([UInt8](repeating: 0xFF, count: 1_000_000))]],
            options: RenderOptions(mode: .table, headers: false, maxCellWidth: 10))
        #expect(blob == "+------------+\n| x'fffffff… |\n+------------+\n")
        let text = ResultRenderer.render(
            columns: ["t"], rows: [[.text(String(repeating: "\n", count: 1_000_000))]],
            options: RenderOptions(mode: .table, headers: false, maxCellWidth: 7))
        #expect(text == "+---------+\n| \\n\\n\\n… |\n+---------+\n")
    }

    @Test("maxCellWidth does not apply to the other modes")
    func uncappedModes() {
        let long = String(repeating: "x", count: 50)
        for mode in [OutputMode.line, .markdown, .csv, .json] {
            let output = ResultRenderer.render(
                columns: ["v"], rows: [[.text(long)]], options: RenderOptions(mode: mode, maxCellWidth: 5))
            #expect(output.contains(long), "\(mode)")
        }
    }

    @Test("wide characters take two columns; combining marks none")
    func displayWidth() {
        let output = ResultRenderer.render(
            columns: ["k"], rows: [[.text("日本")], [.text("abc")], [.text("e\u{301}")], [.text("👍🏽")]],
            options: RenderOptions(mode: .table))
        #expect(
            output == """
                +------+
                |  k   |
                +------+
                | 日本 |
                | abc  |
                | é    |
                | 👍🏽   |
                +------+

                """)
    }
}

/// Counts the lines written to it without keeping them.
private struct LineCounter: TextOutputStream {
    let onLine: () -> Void

    init(_ onLine: @escaping () -> Void) { self.onLine = onLine }

    mutating func write(_ string: String) {
        for byte in string.utf8 where byte == UInt8(ascii: "\n") { onLine() }
    }
}
