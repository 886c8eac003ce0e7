import DqliteWire
import DqliteWireJSON
import Foundation
import Testing

/// `dqlite-wire decode` against real captured traffic (go-dqlite and Python clients, libdqlite 1.11.1 and
/// 1.18.7): every line must match the expected JSON Lines rendered by an independent Python decoder
/// (scripts/capture/wire_ref.py).
@Suite("Wire dissector")
struct DissectorTests {
    struct Capture: CustomTestStringConvertible, Sendable {
        let name: String
        let direction: WireDissector.Direction
        let input: URL
        let expected: URL
        var testDescription: String { "\(name).\(direction.rawValue)" }
    }

    static let captures: [Capture] = TestData.contents(of: "Captures", withExtension: "bin").compactMap { url in
        let parts = url.deletingPathExtension().lastPathComponent.split(separator: ".")
        guard parts.count == 2, let direction = WireDissector.Direction(rawValue: String(parts[1])) else { return nil }
        return Capture(
            name: String(parts[0]), direction: direction, input: url,
            expected: url.deletingPathExtension().appendingPathExtension("jsonl"))
    }

    static func dissect(_ bytes: [UInt8], _ direction: WireDissector.Direction, chunk: Int = 1 << 16) -> (
        [JSONValue], Bool
    ) {
        var dissector = WireDissector(direction: direction)
        var lines: [JSONValue] = []
        var ok = true
        var index = 0
        while ok && index < bytes.count {
            let end = min(index + chunk, bytes.count)
            ok = dissector.feed(bytes[index..<end]) { lines.append($0) }
            index = end
        }
        if ok { ok = dissector.finish { lines.append($0) } }
        return (lines, ok)
    }

    @Test("there are captures of both directions from several clients")
    func capturesExist() {
        #expect(Self.captures.count >= 6)
        #expect(Self.captures.contains { $0.name == "sample" && $0.direction == .client })
        #expect(Self.captures.contains { $0.name == "sample" && $0.direction == .server })
    }

    @Test("each capture decodes exactly to the expected JSON lines", arguments: captures)
    func capture(_ capture: Capture) throws {
        let bytes = [UInt8](try Data(contentsOf: capture.input))
        let expected = try String(contentsOf: capture.expected, encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: true)
            .map { try JSONValue(parsing: String($0)) }
        let (lines, ok) = Self.dissect(bytes, capture.direction)
        #expect(ok)
        #expect(lines.count == expected.count)
        for (index, (line, want)) in zip(lines, expected).enumerated() where !line.isEquivalent(to: want) {
            Issue.record("line \(index + 1): got \(line.serialized)\n want \(want.serialized)")
            break
        }
    }

    @Test("a capture decodes the same when fed one byte at a time")
    func byteAtATime() throws {
        let capture = try #require(Self.captures.first { $0.name == "sample" && $0.direction == .server })
        let bytes = [UInt8](try Data(contentsOf: capture.input))
        let whole = Self.dissect(bytes, .server)
        let single = Self.dissect(bytes, .server, chunk: 1)
        #expect(whole.1 && single.1)
        #expect(whole.0 == single.0)
    }

    @Test("a truncated stream prints what decoded, then an error with the offset")
    func truncated() throws {
        // protocol.md §6 G2's SERVER response, cut inside the second frame (G14's EMPTY).
        let stream = unhex("0300000001000000 0100000000000000 3132372e302e302e 313a313930303100 0100000008000000 0000")
        let (lines, ok) = Self.dissect(stream, .server)
        #expect(!ok)
        #expect(lines.count == 2)
        #expect(
            lines[0].isEquivalent(
                to: try JSONValue(parsing: #"{"type":1,"name":"SERVER","id":1,"address":"127.0.0.1:19001"}"#)))
        #expect(lines[1]["offset"] == .number("32"))
        guard case .string(let what)? = lines[1]["error"] else { Issue.record("no error text"); return }
        #expect(what.contains("truncated"))
    }

    @Test("a frame that cannot be decoded reports the offending byte's offset")
    func badFrame() throws {
        // Handshake, LEADER, then a ROWS-like request type 42 at offset 24.
        let stream = unhex("0100000000000000 0100000000000000 0000000000000000 010000002a000000 0000000000000000")
        let (lines, ok) = Self.dissect(stream, .client)
        #expect(!ok)
        #expect(
            lines.map(\.serialized) == [
                #"{"handshake":1}"#, #"{"type":0,"name":"LEADER"}"#,
                #"{"error":"request type 42 is not defined (unknownMessageType)","offset":28}"#,
            ])
    }

    @Test("values are printed as specified")
    func valueForms() throws {
        let row: [WireValue] = [
            .integer(.min), .float(2.5), .float(-0.0), .float(.nan), .float(.infinity), .float(-.infinity),
            .text("hé\"\n"),
            .blob([0xAB, 0x01]), .null, .unixTime(1_700_000_000), .iso8601(""), .boolean(true),
        ]
        let json = Response.rows(RowsFrame(columns: Array(repeating: "c", count: row.count), rows: [row], more: true))
            .json()
        #expect(
            json["rows"]?.serialized
                == #"[[-9223372036854775808,2.5,-0.0,"NaN","Infinity","-Infinity","hé\"\n",{"blob":"ab01"},null,{"unixtime":1700000000},{"iso8601":""},true]]"#
        )
        #expect(json["more"] == .bool(true))
    }

    @Test("the dqlite-wire binary prints the sample capture and exits 0; exits 1 on garbage")
    func binary() throws {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(
            "dqlite-wire")
        let executable =
            FileManager.default.isExecutableFile(atPath: binary.path)
            ? binary : TestData.directory.appendingPathComponent("../../.build/debug/dqlite-wire").standardizedFileURL
        let capture = try #require(Self.captures.first { $0.name == "sample" && $0.direction == .client })
        let (status, output) = try run(executable, ["decode", "--direction", "client", capture.input.path])
        #expect(status == 0)
        let expected = try String(contentsOf: capture.expected, encoding: .utf8)
        #expect(output.split(separator: "\n").count == expected.split(separator: "\n").count)
        #expect(output.hasPrefix(#"{"handshake":1}"#))

        let garbage = FileManager.default.temporaryDirectory.appendingPathComponent(
            "dqlite-wire-garbage-\(getpid()).bin")
        try Data(unhex("0000000007000000")).write(to: garbage)
        defer { try? FileManager.default.removeItem(at: garbage) }
        let (badStatus, badOutput) = try run(executable, ["decode", "--direction", "server", garbage.path])
        #expect(badStatus == 1)
        #expect(badOutput.contains(#""offset":0"#))
    }

    func run(_ executable: URL, _ arguments: [String]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
