/// The one place where dqlite bytes are written.
///
/// Encoding is two-phase: the encoder first computes the exact body size (``WireSize``), grows the caller's
/// buffer once, already zero-filled, and then this writer stores the fields into it. Integers are split into
/// bytes explicitly in little-endian order (`value >> 8`, `value >> 16`, …), so the bytes are the same on
/// every architecture; padding is never written because it is already zero. A connection that reuses one
/// buffer for every request encodes with no allocation at all once the buffer has grown.
@usableFromInline
struct WireWriter {
    @usableFromInline let raw: UnsafeMutableRawBufferPointer
    @usableFromInline var position: Int

    @inlinable
    init(_ raw: UnsafeMutableRawBufferPointer, position: Int) {
        self.raw = raw
        self.position = position
    }

    @inlinable @inline(__always)
    mutating func writeUInt64(_ value: UInt64) {
        let p = position
        raw[p] = UInt8(truncatingIfNeeded: value)
        raw[p &+ 1] = UInt8(truncatingIfNeeded: value &>> 8)
        raw[p &+ 2] = UInt8(truncatingIfNeeded: value &>> 16)
        raw[p &+ 3] = UInt8(truncatingIfNeeded: value &>> 24)
        raw[p &+ 4] = UInt8(truncatingIfNeeded: value &>> 32)
        raw[p &+ 5] = UInt8(truncatingIfNeeded: value &>> 40)
        raw[p &+ 6] = UInt8(truncatingIfNeeded: value &>> 48)
        raw[p &+ 7] = UInt8(truncatingIfNeeded: value &>> 56)
        position = p &+ 8
    }

    @inlinable @inline(__always)
    mutating func writeUInt32(_ value: UInt32) {
        let p = position
        raw[p] = UInt8(truncatingIfNeeded: value)
        raw[p &+ 1] = UInt8(truncatingIfNeeded: value &>> 8)
        raw[p &+ 2] = UInt8(truncatingIfNeeded: value &>> 16)
        raw[p &+ 3] = UInt8(truncatingIfNeeded: value &>> 24)
        position = p &+ 4
    }

    @inlinable @inline(__always)
    mutating func writeUInt16(_ value: UInt16) {
        raw[position] = UInt8(truncatingIfNeeded: value)
        raw[position &+ 1] = UInt8(truncatingIfNeeded: value &>> 8)
        position &+= 2
    }

    @inlinable @inline(__always)
    mutating func writeUInt8(_ value: UInt8) {
        raw[position] = value
        position &+= 1
    }

    /// Skips to the next multiple of 8 from `origin`; the skipped bytes are already zero.
    @inlinable @inline(__always)
    mutating func padToWord(from origin: Int) {
        position = origin &+ ((position &- origin &+ 7) & ~7)
    }

    /// Copies bytes, then skips the zero padding up to a word boundary of the field.
    @inlinable
    mutating func writePaddedBytes(_ bytes: UnsafeRawBufferPointer) {
        let count = bytes.count
        if count > 0 {
            UnsafeMutableRawBufferPointer(rebasing: raw[position..<(position &+ count)]).copyMemory(from: bytes)
        }
        position &+= (count &+ 7) & ~7
    }

    /// Writes a NUL-terminated, zero-padded text field. Text containing NUL cannot be represented; that is
    /// found while copying (the copy is cheap; the size was computed by ``WireSize/text(_:)``).
    @inlinable
    mutating func writeText(_ text: String, _ field: StaticString) throws {
        var text = text
        try text.withUTF8 { utf8 in
            if WireWriter.containsNUL(utf8) {
                throw WireError(.unencodable, at: 0, "\(field) contains a NUL byte, which dqlite text cannot carry")
            }
            let count = utf8.count
            if count > 0 {
                UnsafeMutableRawBufferPointer(rebasing: raw[position..<(position &+ count)])
                    .copyMemory(from: UnsafeRawBufferPointer(utf8))
            }
            // The NUL terminator and the padding are already zero.
            position &+= (count &+ 8) & ~7
        }
    }

    /// Writes a blob: `uint64` length, bytes, zero padding.
    @inlinable
    mutating func writeBlob(_ blob: [UInt8]) {
        writeUInt64(UInt64(blob.count))
        blob.withUnsafeBytes { writePaddedBytes($0) }
    }

    /// True if any byte is 0.
    @inlinable
    static func containsNUL(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        WireScan.firstNUL(UnsafeRawBufferPointer(bytes), from: 0) != nil
    }
}

/// Sizes of encoded fields, computed before writing so the buffer grows once.
@usableFromInline
enum WireSize {
    /// A text field: the UTF-8 bytes, a NUL, zero padding to a word.
    @inlinable @inline(__always)
    static func text(_ text: String) -> Int { (text.utf8.count &+ 8) & ~7 }

    /// Raw bytes padded to a word.
    @inlinable @inline(__always)
    static func padded(_ count: Int) -> Int { (count &+ 7) & ~7 }
}

/// Zero bytes for growing buffers with a memory copy instead of an element-by-element loop.
@usableFromInline
let wireZeroes = [UInt8](repeating: 0, count: 4096)

extension Array where Element == UInt8 {
    /// Appends `count` zero bytes.
    @inlinable
    mutating func appendWireZeroes(_ count: Int) {
        var left = count
        while left > 0 {
            let chunk = Swift.min(left, wireZeroes.count)
            append(contentsOf: wireZeroes[0..<chunk])
            left &-= chunk
        }
    }
}
