import DqliteSQL
import DqliteShellCore
import DqliteWire
import Foundation
import Testing

@Suite("Rendering: json output parses back")
struct JSONOutputValidityTests {
    @Test("every type parses with JSONSerialization and keeps its value")
    func parsesBack() throws {
        let columns = ["i", "big", "f", "tiny", "nan", "inf", "t", "b", "n", "u", "d", "z", "o", "dup", "dup"]
        let text = "quote \" backslash \\ newline \n tab \t bell \u{07} esc \u{1B} del \u{7F} c1 \u{85} é 😀"
        let row: [WireValue] = [
            .integer(-42), .integer(.max), .float(0.1), .float(.leastNonzeroMagnitude), .float(.nan),
            .float(-.infinity),
            .text(text), .blob([0x00, 0x7F, 0xFF]), .null, .unixTime(1_700_000_000), .iso8601("2024-01-02"),
            .iso8601(""), .boolean(true), .integer(1), .integer(2),
        ]
        let output = ResultRenderer.render(
            columns: columns, rows: [row, row, [.integer(3)]], options: RenderOptions(mode: .json))
        let parsed = try JSONSerialization.jsonObject(with: Data(output.utf8))
        let objects = try #require(parsed as? [[String: Any]])
        #expect(objects.count == 3)
        let first = objects[0]
        #expect((first["i"] as? NSNumber)?.int64Value == -42)
        #expect((first["big"] as? NSNumber)?.int64Value == .max)
        #expect((first["f"] as? NSNumber)?.doubleValue == 0.1)
        #expect((first["tiny"] as? NSNumber)?.doubleValue == .leastNonzeroMagnitude)
        #expect(first["nan"] as? String == "NaN")
        #expect(first["inf"] as? String == "-Infinity")
        #expect(first["t"] as? String == text)
        #expect(first["b"] as? String == "007fff")
        #expect(first["n"] is NSNull)
        #expect((first["u"] as? NSNumber)?.int64Value == 1_700_000_000)
        #expect(first["d"] as? String == "2024-01-02")
        #expect(first["z"] is NSNull)
        #expect((first["o"] as? NSNumber)?.boolValue == true)
        #expect(objects[2]["t"] is NSNull)  // padded
    }

    @Test("floats round-trip exactly through the JSON text")
    func floatRoundTrip() throws {
        var generator = SystemRandomNumberGenerator()
        var values: [Double] = [0.1, 1.0 / 3.0, .pi, -1e-300, 1.7976931348623157e308, 2.2250738585072014e-308]
        for _ in 0..<200 {
            let value = Double(bitPattern: generator.next())
            if value.isFinite { values.append(value) }
        }
        let output = ResultRenderer.render(
            columns: ["f"], rows: values.map { [.float($0)] }, options: RenderOptions(mode: .json))
        let objects = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]])
        #expect(objects.count == values.count)
        // JSONSerialization may lose the last bit; read the number text back with Double(_:) instead.
        let texts = output.split(separator: "\n").map { line in
            line.drop { $0 != ":" }.dropFirst().prefix { $0 != "}" }
        }
        for (text, value) in zip(texts, values) {
            #expect(Double(String(text))?.bitPattern == value.bitPattern, "\(text)")
        }
    }
}
