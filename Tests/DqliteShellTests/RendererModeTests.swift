import DqliteSQL
import DqliteShellCore
import DqliteWire
import Testing

/// Whole outputs of each mode for one small result, written by hand from sqlite3's formats.
@Suite("Rendering: complete output per mode")
struct RendererModeTests {
    let columns = ["id", "name", "score", "data"]
    let rows: [[WireValue]] = [
        [.integer(1), .text("Ada"), .float(9.5), .blob([0x01, 0xAB])],
        [.integer(22), .null, .float(-0.25), .blob([])],
    ]

    private func render(_ mode: OutputMode, headers: Bool = true) -> String {
        ResultRenderer.render(columns: columns, rows: rows, options: RenderOptions(mode: mode, headers: headers))
    }

    @Test("table: borders, centred names, left-aligned cells, NULL, blobs as x'…'")
    func table() {
        #expect(
            render(.table) == """
                +----+------+-------+---------+
                | id | name | score |  data   |
                +----+------+-------+---------+
                | 1  | Ada  | 9.5   | x'01ab' |
                | 22 | NULL | -0.25 | x''     |
                +----+------+-------+---------+

                """)
        #expect(
            render(.table, headers: false) == """
                +----+------+-------+---------+
                | 1  | Ada  | 9.5   | x'01ab' |
                | 22 | NULL | -0.25 | x''     |
                +----+------+-------+---------+

                """)
    }

    @Test("table matches sqlite3 .mode table (with .nullvalue NULL)")
    func tableLikeSQLite() {
        let output = ResultRenderer.render(
            columns: ["aaaaa", "bbbbbb", "c"],
            rows: [[.integer(1), .text("x"), .null], [.integer(12_345_678), .text("yyyyyyyyy"), .integer(3)]],
            options: RenderOptions(mode: .table))
        #expect(
            output == """
                +----------+-----------+------+
                |  aaaaa   |  bbbbbb   |  c   |
                +----------+-----------+------+
                | 1        | x         | NULL |
                | 12345678 | yyyyyyyyy | 3    |
                +----------+-----------+------+

                """)
    }

    @Test("csv: RFC 4180 with CRLF, NULL empty, empty blob quoted")
    func csv() {
        #expect(render(.csv) == "id,name,score,data\r\n1,Ada,9.5,01ab\r\n22,,-0.25,\"\"\r\n")
        #expect(render(.csv, headers: false) == "1,Ada,9.5,01ab\r\n22,,-0.25,\"\"\r\n")
    }

    @Test("json: sqlite3's layout, one object per row")
    func json() {
        let expected = #"""
            [{"id":1,"name":"Ada","score":9.5,"data":"01ab"},
            {"id":22,"name":null,"score":-0.25,"data":""}]

            """#
        #expect(render(.json) == expected)
        #expect(render(.json, headers: false) == expected)
    }

    @Test("line: names right-aligned to at least 5 columns, a blank line between rows")
    func line() {
        #expect(
            render(.line) == """
                   id = 1
                 name = Ada
                score = 9.5
                 data = x'01ab'

                   id = 22
                 name = NULL
                score = -0.25
                 data = x''

                """)
        let short = ResultRenderer.render(
            columns: ["a", "longname"], rows: [[.integer(1), .integer(2)]], options: RenderOptions(mode: .line))
        #expect(short == "       a = 1\nlongname = 2\n")
        let narrow = ResultRenderer.render(
            columns: ["a", "b"], rows: [[.integer(1), .integer(2)]], options: RenderOptions(mode: .line))
        #expect(narrow == "    a = 1\n    b = 2\n")
    }

    @Test("markdown: a GitHub table; the header is kept even with headers off")
    func markdown() {
        let expected = """
            | id | name | score |  data   |
            |----|------|-------|---------|
            | 1  | Ada  | 9.5   | x'01ab' |
            | 22 | NULL | -0.25 | x''     |

            """
        #expect(render(.markdown) == expected)
        #expect(render(.markdown, headers: false) == expected)
    }

    @Test("results with columns but no rows")
    func noRows() {
        func render(_ mode: OutputMode, headers: Bool = true) -> String {
            ResultRenderer.render(columns: ["a", "b"], rows: [], options: RenderOptions(mode: mode, headers: headers))
        }
        #expect(render(.table) == "+---+---+\n| a | b |\n+---+---+\n")
        #expect(render(.table, headers: false) == "")
        #expect(render(.csv) == "a,b\r\n")
        #expect(render(.csv, headers: false) == "")
        #expect(render(.json) == "[]\n")
        #expect(render(.line) == "")
        #expect(render(.markdown) == "| a | b |\n|---|---|\n")
    }

    @Test("results without columns print nothing (json: an empty array)")
    func noColumns() {
        for mode in OutputMode.allCases {
            let output = ResultRenderer.render(columns: [], rows: [], options: RenderOptions(mode: mode))
            #expect(output == (mode == .json ? "[]\n" : ""), "\(mode)")
        }
    }

    @Test("short rows are padded with NULL, extra values ignored")
    func ragged() {
        let output = ResultRenderer.render(
            columns: ["a", "b"], rows: [[.integer(1)], [.integer(2), .integer(3), .integer(4)]],
            options: RenderOptions(mode: .csv))
        #expect(output == "a,b\r\n1,\r\n2,3\r\n")
    }

    @Test("streaming: rows written one by one give the same output; writes after finish are ignored")
    func streaming() {
        for mode in OutputMode.allCases {
            var renderer = ResultRenderer(columns: columns, options: RenderOptions(mode: mode))
            var output = ""
            for row in rows { renderer.write(row: row, to: &output) }
            renderer.finish(to: &output)
            renderer.write(row: rows[0], to: &output)
            renderer.finish(to: &output)
            #expect(output == render(mode), "\(mode)")
        }
    }
}
