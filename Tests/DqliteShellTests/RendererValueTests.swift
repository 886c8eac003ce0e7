import DqliteSQL
import DqliteShellCore
import DqliteWire
import Testing

/// Every value type in every mode, one value at a time, against hand-written expected text.
@Suite("Rendering: every value type in every mode")
struct RendererValueTests {
    /// A value and how each mode shows it.
    struct Case: Sendable, CustomTestStringConvertible {
        let value: WireValue
        /// The cell of the table, line and markdown modes (markdown also escapes `|`).
        let display: String
        let csv: String
        let json: String

        var testDescription: String { "\(value)".debugDescription }
    }

    static let cases: [Case] = [
        Case(value: .integer(0), display: "0", csv: "0", json: "0"),
        Case(
            value: .integer(.min), display: "-9223372036854775808", csv: "-9223372036854775808",
            json: "-9223372036854775808"),
        Case(
            value: .integer(.max), display: "9223372036854775807", csv: "9223372036854775807",
            json: "9223372036854775807"),
        Case(value: .float(0.1), display: "0.1", csv: "0.1", json: "0.1"),
        Case(value: .float(1.0), display: "1.0", csv: "1.0", json: "1.0"),
        Case(value: .float(1e20), display: "1e+20", csv: "1e+20", json: "1e+20"),
        Case(value: .float(-0.0), display: "-0.0", csv: "-0.0", json: "-0.0"),
        Case(value: .float(.leastNonzeroMagnitude), display: "5e-324", csv: "5e-324", json: "5e-324"),
        Case(value: .float(.nan), display: "NaN", csv: "NaN", json: #""NaN""#),
        Case(value: .float(.infinity), display: "Inf", csv: "Inf", json: #""Infinity""#),
        Case(value: .float(-.infinity), display: "-Inf", csv: "-Inf", json: #""-Infinity""#),
        Case(value: .text("plain"), display: "plain", csv: "plain", json: #""plain""#),
        Case(value: .text(""), display: "", csv: #""""#, json: #""""#),
        Case(value: .text("é 😀"), display: "é 😀", csv: "é 😀", json: #""é 😀""#),
        Case(value: .text("a,b"), display: "a,b", csv: #""a,b""#, json: #""a,b""#),
        Case(value: .text(#"say "hi""#), display: #"say "hi""#, csv: #""say ""hi""""#, json: #""say \"hi\"""#),
        Case(value: .text(" padded"), display: " padded", csv: #"" padded""#, json: #"" padded""#),
        Case(value: .text("back\\slash"), display: "back\\slash", csv: "back\\slash", json: #""back\\slash""#),
        Case(
            value: .text("two\nlines\r\tend"), display: #"two\nlines\r\tend"#, csv: "\"two\nlines\r\tend\"",
            json: #""two\nlines\r\tend""#),
        Case(
            value: .text("\u{1B}[31mred\u{07}"), display: #"\x1b[31mred\x07"#, csv: "\u{1B}[31mred\u{07}",
            json: #""\u001b[31mred\u0007""#),
        Case(
            value: .text("\u{7F}\u{85}\u{00}"), display: #"\x7f\u0085\x00"#, csv: "\u{7F}\u{85}\u{00}",
            json: #""\u007f\u0085\u0000""#),
        Case(value: .blob([]), display: "x''", csv: #""""#, json: #""""#),
        Case(value: .blob([0x00, 0xDE, 0xAD, 0xFF]), display: "x'00deadff'", csv: "00deadff", json: #""00deadff""#),
        Case(value: .null, display: "NULL", csv: "", json: "null"),
        Case(value: .unixTime(1_700_000_000), display: "1700000000", csv: "1700000000", json: "1700000000"),
        Case(value: .unixTime(-1), display: "-1", csv: "-1", json: "-1"),
        Case(
            value: .iso8601("2024-01-02T03:04:05Z"), display: "2024-01-02T03:04:05Z", csv: "2024-01-02T03:04:05Z",
            json: #""2024-01-02T03:04:05Z""#),
        Case(value: .iso8601(""), display: "NULL", csv: "", json: "null"),
        Case(value: .boolean(true), display: "true", csv: "true", json: "true"),
        Case(value: .boolean(false), display: "false", csv: "false", json: "false"),
    ]

    private func render(_ value: WireValue, _ mode: OutputMode) -> String {
        ResultRenderer.render(columns: ["v"], rows: [[value]], options: RenderOptions(mode: mode))
    }

    private func width(_ text: String) -> Int {
        text.reduce(0) { $0 + ($1 == "😀" ? 2 : 1) }
    }

    @Test("table", arguments: cases)
    func table(_ testCase: Case) {
        let width = max(1, width(testCase.display))
        let border = "+" + String(repeating: "-", count: width + 2) + "+\n"
        let header =
            "| " + String(repeating: " ", count: (width - 1) / 2) + "v"
            + String(repeating: " ", count: width - 1 - (width - 1) / 2) + " |\n"
        let row = "| " + testCase.display + String(repeating: " ", count: width - self.width(testCase.display)) + " |\n"
        #expect(render(testCase.value, .table) == border + header + border + row + border)
    }

    @Test("markdown", arguments: cases)
    func markdown(_ testCase: Case) {
        let width = max(1, width(testCase.display))
        let header =
            "| " + String(repeating: " ", count: (width - 1) / 2) + "v"
            + String(repeating: " ", count: width - 1 - (width - 1) / 2) + " |\n"
        let separator = "|" + String(repeating: "-", count: width + 2) + "|\n"
        let row = "| " + testCase.display + String(repeating: " ", count: width - self.width(testCase.display)) + " |\n"
        #expect(render(testCase.value, .markdown) == header + separator + row)
    }

    @Test("line", arguments: cases)
    func line(_ testCase: Case) {
        #expect(render(testCase.value, .line) == "    v = \(testCase.display)\n")
    }

    @Test("csv", arguments: cases)
    func csv(_ testCase: Case) {
        #expect(render(testCase.value, .csv) == "v\r\n\(testCase.csv)\r\n")
    }

    @Test("json", arguments: cases)
    func json(_ testCase: Case) {
        #expect(render(testCase.value, .json) == "[{\"v\":\(testCase.json)}]\n")
    }

    @Test("markdown escapes | in cells and column names")
    func markdownPipes() {
        let output = ResultRenderer.render(
            columns: ["a|b"], rows: [[.text("x|y")]], options: RenderOptions(mode: .markdown))
        #expect(output == "| a\\|b |\n|------|\n| x\\|y |\n")
    }

    @Test("control characters in column names are escaped in table, line and markdown modes")
    func columnNames() {
        let table = ResultRenderer.render(
            columns: ["a\nb"], rows: [[.integer(1)]], options: RenderOptions(mode: .table))
        #expect(table == "+------+\n| a\\nb |\n+------+\n| 1    |\n+------+\n")
        let line = ResultRenderer.render(
            columns: ["\u{1B}x"], rows: [[.integer(1)]], options: RenderOptions(mode: .line))
        #expect(line == "\\x1bx = 1\n")
        let json = ResultRenderer.render(columns: ["q\"\n"], rows: [[.integer(1)]], options: RenderOptions(mode: .json))
        #expect(json == "[{\"q\\\"\\n\":1}]\n")
        let csv = ResultRenderer.render(columns: ["a,b", "c"], rows: [], options: RenderOptions(mode: .csv))
        #expect(csv == "\"a,b\",c\r\n")
    }

    @Test("nullText changes NULL in table, line and markdown modes only")
    func nullText() {
        let options = { (mode: OutputMode) in RenderOptions(mode: mode, nullText: "∅") }
        let row: [[WireValue]] = [[.null, .iso8601("")]]
        #expect(
            ResultRenderer.render(columns: ["a", "b"], rows: row, options: options(.line)) == "    a = ∅\n    b = ∅\n")
        #expect(ResultRenderer.render(columns: ["a", "b"], rows: row, options: options(.csv)) == "a,b\r\n,\r\n")
        #expect(
            ResultRenderer.render(columns: ["a", "b"], rows: row, options: options(.json))
                == "[{\"a\":null,\"b\":null}]\n")
    }
}
