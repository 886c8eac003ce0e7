/// One complete message: its header and its body bytes.
public struct Frame: Hashable, Sendable {
    /// The header.
    public var header: FrameHeader
    /// The body (`header.words × 8` bytes).
    public var body: [UInt8]
    /// Offset of the header's first byte in the stream it was read from (0 for a frame made in memory).
    public var offset: Int

    /// Creates a frame.
    public init(header: FrameHeader, body: [UInt8], offset: Int = 0) {
        self.header = header
        self.body = body
        self.offset = offset
    }

    /// Stream offset of the first body byte.
    public var bodyOffset: Int { offset &+ FrameHeader.size }

    /// Parses one whole frame (header and body, nothing more) from `bytes`.
    public init(parsing bytes: [UInt8], limits: WireLimits = .default) throws {
        var decoder = FrameDecoder(limits: limits)
        decoder.append(bytes)
        guard let frame = try decoder.nextFrame() else {
            throw WireError(.truncated, at: bytes.count, "the bytes end before the frame is complete")
        }
        guard decoder.bufferedByteCount == 0 else {
            throw WireError(.trailingBytes, at: frame.offset &+ 8 &+ frame.body.count, "bytes after the frame")
        }
        self = frame
    }

    /// The frame's bytes: header then body.
    public var bytes: [UInt8] { header.bytes + body }

    /// Runs `body` with a reader over this frame's body.
    @inlinable
    func withReader<T>(_ work: (inout WireReader) throws -> T) throws -> T {
        let base = bodyOffset
        return try body.withUnsafeBytes { raw in
            var reader = WireReader(raw, base: base)
            return try work(&reader)
        }
    }
}
