/// A message that can be written as one frame: its header fields, exact body size and body writer.
@usableFromInline
protocol FrameBody {
    /// The header's type byte.
    var frameType: UInt8 { get }
    /// The header's schema byte.
    var frameSchema: UInt8 { get }
    /// The exact body size in bytes; throws if the message cannot be encoded.
    func bodySize() throws -> Int
    /// Writes exactly `bodySize()` bytes.
    func writeBody(_ writer: inout WireWriter) throws
}

extension FrameBody {
    /// Header plus body size, checked to fit the header's 32-bit word count.
    @inlinable
    func frameSize() throws -> Int {
        let bodySize = try self.bodySize()
        guard bodySize > 0, bodySize & 7 == 0 else {
            throw WireError(.unencodable, at: 0, "message type \(frameType) would have a body of \(bodySize) bytes")
        }
        guard bodySize / 8 <= Int(UInt32.max) else {
            throw WireError(
                .unencodable, at: 0, "message type \(frameType) body of \(bodySize) bytes exceeds the 32-bit word count"
            )
        }
        return FrameHeader.size &+ bodySize
    }

    /// Writes the whole frame into `raw` at `start`, every byte of it, in one pass. Returns where the frame
    /// ends; when that is past `raw.count` the frame did not fit (nothing usable was written) and the result is
    /// the room it needs.
    @inlinable
    func writeFrame(into raw: UnsafeMutableRawBufferPointer, at start: Int) throws -> Int {
        var writer = WireWriter(raw, position: start)
        writer.writeUInt32(0)  // the word count, patched below
        writer.writeUInt8(frameType)
        writer.writeUInt8(frameSchema)
        writer.writeUInt16(0)
        try writeBody(&writer)
        let bodySize = writer.position &- start &- FrameHeader.size
        guard bodySize > 0, bodySize & 7 == 0 else {
            throw WireError(.unencodable, at: 0, "message type \(frameType) would have a body of \(bodySize) bytes")
        }
        guard bodySize / 8 <= Int(UInt32.max) else {
            throw WireError(
                .unencodable, at: 0, "message type \(frameType) body of \(bodySize) bytes exceeds the 32-bit word count"
            )
        }
        if !writer.overflowed { writer.setUInt32(UInt32(bodySize / 8), at: start) }
        return writer.position
    }

    /// Appends the frame to `buffer`; on error `buffer` is unchanged.
    @inlinable
    func appendFrame(to buffer: inout [UInt8]) throws {
        let size = try frameSize()
        let start = buffer.count
        buffer.appendWireBytes(count: size)
        do {
            let end = try buffer.withUnsafeMutableBytes { try writeFrame(into: $0, at: start) }
            guard end == start &+ size else {
                throw WireError(
                    .unencodable, at: 0,
                    "internal error: message type \(frameType) wrote \(end &- start) of \(size) bytes")
            }
        } catch {
            buffer.removeSubrange(start...)
            throw error
        }
    }

    /// Writes the frame at the start of `destination` (its previous content does not matter) in one pass and
    /// returns the frame's size. When that is larger than `destination.count` the frame did not fit: nothing
    /// usable was written, and the caller retries with at least that many bytes.
    @inlinable
    func encodeFrame(into destination: UnsafeMutableRawBufferPointer) throws -> Int {
        try writeFrame(into: destination, at: 0)
    }
}

/// Zero bytes to grow arrays with one memory copy. Immutable after initialisation, so sharing it across
/// threads is safe.
@usableFromInline
nonisolated(unsafe) let wireZeroPage: UnsafeRawBufferPointer = {
    let page = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 8)
    page.initializeMemory(as: UInt8.self, repeating: 0)
    return UnsafeRawBufferPointer(page)
}()

extension Array where Element == UInt8 {
    /// Appends `count` bytes (zeros) for a frame to be written over, growing geometrically.
    @inlinable
    mutating func appendWireBytes(count: Int) {
        let needed = self.count &+ count
        if capacity < needed { reserveCapacity(Swift.max(needed, capacity &* 2)) }
        var left = count
        while left > 0 {
            let chunk = Swift.min(left, wireZeroPage.count)
            append(contentsOf: UnsafeRawBufferPointer(rebasing: wireZeroPage[0..<chunk]))
            left &-= chunk
        }
    }
}

extension WireWriter {
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
