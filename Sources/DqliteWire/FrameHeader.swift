/// The 8-byte header in front of every request and response.
///
/// Layout (little-endian): `words: u32` (body length in 8-byte words), `type: u8`, `schema: u8`,
/// `extra: u16` (unused; written as 0, ignored when read).
public struct FrameHeader: Hashable, Sendable {
    /// The header's size in bytes.
    public static let size = 8

    /// Body length in 8-byte words.
    public var words: UInt32
    /// Message type code (a request type on the client's stream, a response type on the server's).
    public var type: UInt8
    /// Revision of the body layout.
    public var schema: UInt8
    /// Unused by every server; kept so decoded headers can be re-encoded exactly.
    public var extra: UInt16

    /// Creates a header.
    public init(words: UInt32, type: UInt8, schema: UInt8 = 0, extra: UInt16 = 0) {
        self.words = words
        self.type = type
        self.schema = schema
        self.extra = extra
    }

    /// The body length in bytes (`words × 8`; cannot overflow on 64-bit platforms).
    public var bodyLength: Int { Int(words) &* 8 }

    /// Decodes a header from exactly 8 bytes starting at `start`.
    static func decode(_ bytes: UnsafeRawBufferPointer, at start: Int) -> FrameHeader {
        let words =
            UInt32(bytes[start]) | UInt32(bytes[start &+ 1]) << 8 | UInt32(bytes[start &+ 2]) << 16
            | UInt32(bytes[start &+ 3]) << 24
        let extra = UInt16(bytes[start &+ 6]) | UInt16(bytes[start &+ 7]) << 8
        return FrameHeader(words: words, type: bytes[start &+ 4], schema: bytes[start &+ 5], extra: extra)
    }

    /// The header's 8 bytes.
    public var bytes: [UInt8] {
        WireWriter.bytes(count: FrameHeader.size) { writer in
            writer.writeUInt32(words)
            writer.writeUInt8(type)
            writer.writeUInt8(schema)
            writer.writeUInt16(extra)
        }
    }
}
