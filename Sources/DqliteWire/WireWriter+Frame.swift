extension WireWriter {
    /// Appends one frame to `buffer`: grows it by `8 + bodySize` zero bytes, writes the header, and lets
    /// `body` write the fields. On error `buffer` is left unchanged.
    @inlinable
    static func appendFrame(
        to buffer: inout [UInt8], type: UInt8, schema: UInt8, bodySize: Int, _ body: (inout WireWriter) throws -> Void
    ) throws {
        guard bodySize > 0, bodySize & 7 == 0 else {
            throw WireError(.unencodable, at: 0, "message type \(type) would have a body of \(bodySize) bytes")
        }
        guard bodySize / 8 <= Int(UInt32.max) else {
            throw WireError(.unencodable, at: 0, "message type \(type) body of \(bodySize) bytes exceeds the 32-bit word count")
        }
        let start = buffer.count
        let end = start &+ FrameHeader.size &+ bodySize
        if buffer.capacity < end {
            buffer.reserveCapacity(Swift.max(end, buffer.capacity &* 2))
        }
        buffer.appendWireZeroes(FrameHeader.size &+ bodySize)
        do {
            try buffer.withUnsafeMutableBytes { raw in
                var writer = WireWriter(raw, position: start)
                writer.writeUInt32(UInt32(bodySize / 8))
                writer.writeUInt8(type)
                writer.writeUInt8(schema)
                writer.writeUInt16(0)
                try body(&writer)
                guard writer.position == end else {
                    throw WireError(
                        .unencodable, at: 0,
                        "internal error: message type \(type) wrote \(writer.position &- start &- 8) of \(bodySize) bytes")
                }
            }
        } catch {
            buffer.removeSubrange(start...)
            throw error
        }
    }

    /// Writes exactly `count` bytes with `body` into a new array (for headers and handshakes).
    static func bytes(count: Int, _ body: (inout WireWriter) -> Void) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        buffer.withUnsafeMutableBytes { raw in
            var writer = WireWriter(raw, position: 0)
            body(&writer)
        }
        return buffer
    }
}
