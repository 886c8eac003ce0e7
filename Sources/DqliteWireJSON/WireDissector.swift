import DqliteWire

/// Turns the bytes one side of a dqlite connection sent into the dissector's JSON objects, frame by
/// frame, as the bytes arrive (this is the engine of `dqlite-wire decode`).
///
/// A client stream starts with the 8-byte protocol version, emitted as `{"handshake": N}`; then every
/// request frame is emitted. A server stream is a sequence of response frames. The first frame that cannot
/// be decoded is emitted as `{"error": "<what>", "offset": N}` (N counted from the start of the stream) and
/// ends the dissection.
public struct WireDissector: Sendable {
    /// Which side of the connection wrote the bytes.
    public enum Direction: String, Hashable, Sendable, CaseIterable {
        /// Requests (client → server), after the handshake word.
        case client
        /// Responses (server → client).
        case server
    }

    /// The side being decoded.
    public let direction: Direction
    /// Response decoding context (legacy handshake, SERVERS format, limits).
    public let context: ResponseContext
    /// How frames are rendered.
    public let rendering: JSONRendering
    private var decoder: FrameDecoder
    private var handshakeSeen = false
    private var failed = false

    /// Creates a dissector.
    public init(
        direction: Direction, context: ResponseContext = ResponseContext(), rendering: JSONRendering = .dissector
    ) {
        self.direction = direction
        self.context = context
        self.rendering = rendering
        self.decoder = FrameDecoder(limits: context.limits)
    }

    /// Decodes what it can from `bytes`, calling `emit` once per line. Returns false once an error line has
    /// been emitted (later calls emit nothing).
    public mutating func feed(_ bytes: some Sequence<UInt8>, emit: (JSONValue) -> Void) -> Bool {
        guard !failed else { return false }
        decoder.append(bytes)
        do {
            if direction == .client && !handshakeSeen {
                guard let version = try decoder.nextHandshake() else { return true }
                handshakeSeen = true
                emit(.object([.init("handshake", .integer(version))]))
            }
            while let frame = try decoder.nextFrame() {
                switch direction {
                case .client: emit(try Request(decoding: frame, limits: context.limits).json(rendering))
                case .server: emit(try Response(decoding: frame, context: context).json(rendering))
                }
            }
            return true
        } catch let error as WireError {
            emit(WireDissector.errorLine("\(error.reason) (\(error.code))", offset: error.offset))
        } catch {
            emit(WireDissector.errorLine("\(error)", offset: decoder.offset))
        }
        failed = true
        return false
    }

    /// Call at the end of the input: emits an error line and returns false if the stream stopped inside
    /// the handshake or a frame.
    public mutating func finish(emit: (JSONValue) -> Void) -> Bool {
        guard !failed else { return false }
        if direction == .client && !handshakeSeen {
            emit(
                WireDissector.errorLine(
                    "the stream ends before the 8-byte handshake (truncated)", offset: decoder.offset))
            failed = true
            return false
        }
        guard decoder.bufferedByteCount == 0 else {
            emit(
                WireDissector.errorLine(
                    "the stream ends inside a frame: \(decoder.bufferedByteCount) bytes left over (truncated)",
                    offset: decoder.offset))
            failed = true
            return false
        }
        return true
    }

    static func errorLine(_ what: String, offset: Int) -> JSONValue {
        .object([.init("error", .string(what)), .init("offset", .integer(Int64(offset)))])
    }
}
