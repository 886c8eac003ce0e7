import ArgumentParser
import DqliteWire
import DqliteWireJSON

extension WireDissector.Direction: ExpressibleByArgument {}

/// `dqlite-wire decode`: prints one JSON line per frame of a captured stream.
struct Decode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Decode one side of a dqlite connection as JSON Lines.",
        discussion: """
            A client stream starts with the 8-byte protocol version ({"handshake": 1}), then one line per \
            request. A server stream has one line per response. A frame that cannot be decoded prints \
            {"error": ..., "offset": N} (N is the byte offset in FILE) and the command exits with status 1.
            """
    )

    @Option(help: "Who sent the bytes: client (requests) or server (responses).")
    var direction: WireDissector.Direction

    @Flag(help: "Server stream of a legacy-handshake connection: SERVER carries an address only.")
    var legacy = false

    @Flag(help: "Lossless output: NaN floats as {\"float_bits\": ...}, FILES entries with their data in hex.")
    var exact = false

    @Option(help: "Largest frame body accepted, in bytes.")
    var maxFrameBytes = WireLimits.default.maxFrameBytes

    @Argument(help: "File holding the raw bytes, or - for standard input.")
    var file: String

    func run() throws {
        let input = try ByteSource(path: file)
        defer { input.close() }
        var output = LineWriter()
        let limits = WireLimits(maxFrameBytes: maxFrameBytes)
        var dissector = WireDissector(
            direction: direction, context: ResponseContext(legacyHandshake: legacy, limits: limits),
            rendering: exact ? .exact : .dissector)
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var failed = false
        while !failed {
            let count = try input.read(into: &chunk)
            if count == 0 {
                failed = !dissector.finish { output.write($0) }
                break
            }
            failed = !dissector.feed(chunk[0..<count]) { output.write($0) }
        }
        output.flush()
        if failed { throw ExitCode(1) }
    }
}
