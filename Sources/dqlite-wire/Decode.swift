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
            {"error": ..., "offset": N} (N is the byte offset in FILE) and the command exits with status 1. \
            SERVER replies have a legacy layout (address only) on connections opened with the legacy \
            handshake: given the client side (--client), its handshake decides; otherwise a SERVER body that is \
            exactly one text field is read as the legacy layout.
            """
    )

    @Option(help: "Who sent the bytes: client (requests) or server (responses).")
    var direction: WireDissector.Direction

    @Flag(help: "Server stream of a legacy-handshake connection: SERVER carries an address only.")
    var legacy = false

    @Option(help: "The client side of the same connection: its handshake says how to read SERVER replies.")
    var client: String?

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
            rendering: exact ? .exact : .dissector, serverLayout: try serverLayout())
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

    /// `--legacy`, else the handshake at the start of `--client`'s stream, else inference per frame.
    private func serverLayout() throws -> WireDissector.ServerLayout {
        if legacy { return .legacy }
        guard let client else { return .infer }
        let input = try ByteSource(path: client)
        defer { input.close() }
        var word: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 8)
        while word.count < 8 {
            let count = try input.read(into: &chunk)
            if count == 0 { break }
            word += chunk[0..<min(count, 8 - word.count)]
        }
        guard word.count == 8 else {
            throw ValidationError("--client \(client): the stream ends before the 8-byte handshake")
        }
        let version = word.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return .forHandshake(version)
    }
}
