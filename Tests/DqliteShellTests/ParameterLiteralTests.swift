import DqliteSQL
import DqliteShellCore
import DqliteWire
import Testing

@Suite("Parameter values (.param set)")
struct ParameterLiteralTests {
    @Test("values parse like sqlite3 reads them")
    func values() throws {
        let cases: [(String, WireValue)] = [
            ("0", .integer(0)), ("42", .integer(42)), ("-7", .integer(-7)), ("+7", .integer(7)),
            ("9223372036854775807", .integer(.max)), ("-9223372036854775808", .integer(.min)),
            ("9223372036854775808", .float(9_223_372_036_854_775_808)), ("0x10", .integer(16)),
            ("0XfF", .integer(255)), ("0xffffffffffffffff", .integer(-1)), ("-0x1", .integer(-1)),
            ("1.5", .float(1.5)), (".5", .float(0.5)), ("5.", .float(5)), ("-2.5E+3", .float(-2500)),
            ("1e-3", .float(0.001)), ("1e999", .float(.infinity)),
            ("'text'", .text("text")), ("'it''s'", .text("it's")), ("''", .text("")), ("'a b  c'", .text("a b  c")),
            ("\"dq\"\"x\"", .text("dq\"x")), ("'é😀'", .text("é😀")),
            ("x''", .blob([])), ("X'0aFF'", .blob([0x0A, 0xFF])),
            ("NULL", .null), ("null", .null), ("TRUE", .integer(1)), ("false", .integer(0)),
            ("hello", .text("hello")), ("nan", .text("nan")), ("inf", .text("inf")), ("0x", .text("0x")),
            ("1.2.3", .text("1.2.3")), ("-", .text("-")), ("0x1p3", .text("0x1p3")),
            ("0x1ffffffffffffffff", .text("0x1ffffffffffffffff")), ("  7  ", .integer(7)),
        ]
        for (text, expected) in cases {
            #expect(try ParameterLiteral.parse(text) == expected, "\(text)")
        }
    }

    @Test("malformed values are errors")
    func errors() {
        for text in ["", "   ", "'open", "'a'b", "\"open", "x'abc'", "x'zz'", "x'00"] {
            #expect(throws: DotCommandError.self, "\(text)") { try ParameterLiteral.parse(text) }
        }
    }

    @Test("parameter names")
    func names() {
        for name in [":a", "@b", "$c", ":snake_case", ":x1", "?1", "?32766", ":é"] {
            #expect(ParameterTable.isValidName(name), "\(name)")
        }
        for name in ["", ":", "a", "?", "?0", "?32767", "?1a", ":a-b", ":a b", "#a"] {
            #expect(!ParameterTable.isValidName(name), "\(name)")
        }
    }
}
