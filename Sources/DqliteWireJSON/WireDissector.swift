import DqliteWire

/// Turns the bytes one side of a dqlite connection sent into the dissector's JSON objects, frame by
/// frame, as the bytes arrive (this is the engine of `dqlite-wire decode`).
///
/// A client stream starts with the 8-byte protocol version, emitted as `{"handshake": N}`; then every
/// request frame is emitted. A server stream is a sequence of response frames. The first frame that cannot
/// be decoded is emitted as `{"error": "<what>", "offset": N}` (N counted from the start of the stream) and
/// ends the dissection.
///
/// SERVER (type 1) has two layouts that only the handshake tells apart (protocol.md §2.2): id + address, or the
/// address alone on a legacy-handshake connection. ``ServerLayout`` says which to use; by default the dissector
/// infers it per frame: a SERVER body that is exactly one text field can only be the legacy layout.
public struct WireDissector: Sendable {
    /// How SERVER responses are read.
    public enum ServerLayout: String, Hashable, Sendable, CaseIterable {
        /// Legacy when the body is exactly one text field, else id + address (for one direction alone).
        case infer
        /// Always id + address (a connection opened with protocol version 1).
        case current
        /// Always the address only (a connection opened with the legacy version `0x86104dd760433fe5`).
        case legacy

        /// The layout that a connection opened with `handshake` (the client's first 8-byte word) uses.
        public static func forHandshake(_ handshake: UInt64) -> ServerLayout {
            handshake == ProtocolVersion.legacy ? .legacy : .current
        }
    }

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
    /// How SERVER responses are read (`context.legacyHandshake == true` means ``ServerLayout/legacy``).
    public let serverLayout: ServerLayout
    private var decoder: FrameDecoder
    private var handshakeSeen = false
    private var failed = false

    /// Creates a dissector.
    public init(
        direction: Direction, context: ResponseContext = ResponseContext(), rendering: JSONRendering = .dissector,
        serverLayout: ServerLayout = .infer
    ) {
        self.direction = direction
        self.context = context
        self.rendering = rendering
        self.serverLayout = context.legacyHandshake ? .legacy : serverLayout
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
                case .server: emit(try Response(decoding: frame, context: responseContext(for: frame)).json(rendering))
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

    /// The decoding context for one server frame: legacy SERVER layout where ``serverLayout`` says so or infers it.
    private func responseContext(for frame: Frame) -> ResponseContext {
        guard frame.header.type == ResponseType.server.rawValue else { return context }
        var frameContext = context
        switch serverLayout {
        case .legacy: frameContext.legacyHandshake = true
        case .current: frameContext.legacyHandshake = false
        case .infer: frameContext.legacyHandshake = Self.isSingleTextField(frame.body)
        }
        return frameContext
    }

    /// True if `body` is exactly one text field: non-NUL bytes, one NUL, zero padding to the end of the last
    /// word, and nothing after it. A current-layout SERVER body starts with an 8-byte id and then a text field, so it
    /// can only look like this if every byte of the id is non-zero (an id of at least 0x0101010101010101).
    static func isSingleTextField(_ body: [UInt8]) -> Bool {
        guard !body.isEmpty, body.count % 8 == 0, let nul = body.firstIndex(of: 0) else { return false }
        // The padding after the NUL fills the rest of the NUL's word, and the body ends there.
        guard (nul & ~7) + 8 == body.count else { return false }
        return body[nul...].allSatisfy { $0 == 0 }
    }

    static func errorLine(_ what: String, offset: Int) -> JSONValue {
        .object([.init("error", .string(what)), .init("offset", .integer(Int64(offset)))])
    }
}
