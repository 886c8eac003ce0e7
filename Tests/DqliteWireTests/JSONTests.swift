import DqliteWire
import DqliteWireJSON
import Testing

@Suite("JSON reader and writer")
struct JSONTests {
    @Test("numbers keep their exact text; 64-bit extremes survive")
    func numbers() throws {
        let value = try JSONValue(parsing: #"[18446744073709551615, -9223372036854775808, 2.5, -0.0, 1e-05, 1E+16]"#)
        #expect(value.serialized == "[18446744073709551615,-9223372036854775808,2.5,-0.0,1e-05,1E+16]")
        #expect(try WireValue(json: .number("-9223372036854775808")) == .integer(.min))
        #expect(try WireValue(json: .number("-0.0")) == .float(-0.0))
        #expect(try WireValue(json: .number("-0.0")) != .float(0.0))
        #expect(throws: JSONError.self) { try WireValue(json: .number("9223372036854775808")) }
    }

    @Test("strings: escapes, unicode, surrogate pairs")
    func strings() throws {
        let value = try JSONValue(parsing: #""a\"b\\c\n\u00e9\ud83d\ude00/\/""#)
        #expect(value == .string("a\"b\\c\né😀//"))
        #expect(JSONValue.string("a\"b\\\n\u{01}é").serialized == #""a\"b\\\n\u0001é""#)
        #expect(throws: JSONError.self) { try JSONValue(parsing: #""\ud83d""#) }
    }

    @Test("malformed documents are errors with offsets")
    func malformed() {
        for text in [
            "", "[1,]", "{\"a\" 1}", "[1 2]", "tru", "\"abc", "01x", "{\"a\":1}}", String(repeating: "[", count: 600),
        ] {
            #expect(throws: JSONError.self, "\(text.prefix(20))") { try JSONValue(parsing: text) }
        }
    }

    @Test("equivalence ignores member order and number spelling")
    func equivalence() throws {
        let a = try JSONValue(parsing: #"{"a":1,"b":[2.50,{"c":null}]}"#)
        let b = try JSONValue(parsing: #"{"b":[2.5,{"c":null}],"a":1}"#)
        #expect(a.isEquivalent(to: b))
        #expect(!a.isEquivalent(to: try JSONValue(parsing: #"{"a":1.0,"b":[2.5,{"c":null}]}"#)))
    }

    @Test("exact rendering keeps NaN payloads and file data")
    func exactRendering() throws {
        let nan = Double(bitPattern: 0x7FF0_0000_0000_0001)
        #expect(WireValue.float(nan).json(.exact).serialized == #"{"float_bits":"7ff0000000000001"}"#)
        #expect(try WireValue(json: WireValue.float(nan).json(.exact)) == .float(nan))
        let files = Response.files([DumpFile(name: "db", data: [1, 2, 3, 4, 5, 6, 7, 8])])
        #expect(files.json().serialized == #"{"type":9,"name":"FILES","files":[{"name":"db","size":8}]}"#)
        #expect(try Response(json: files.json(.exact)) == files)
    }
}
