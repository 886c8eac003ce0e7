/// The one place where dqlite bytes are written.
///
/// Encoding is two-phase: the encoder first computes the exact body size (``WireSize``), makes room once,
/// and then this writer stores every byte of the frame into that room — padding included, written as
/// zeros, so the destination may hold stale bytes (a reused buffer, a NIO `ByteBuffer`'s writable area).
/// Integers are split into bytes explicitly in little-endian order (`value >> 8`, `value >> 16`, …), so
/// the bytes are the same on every architecture.
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

    /// Writes zero bytes up to the next multiple of 8 from `origin`.
    @inlinable @inline(__always)
    mutating func padToWord(from origin: Int) {
        let end = origin &+ ((position &- origin &+ 7) & ~7)
        while position < end {
            raw[position] = 0
            position &+= 1
        }
    }

    /// Zeroes the 8 bytes at `index`.
    @inlinable @inline(__always)
    func zeroWord(at index: Int) {
        for k in 0..<8 { raw[index &+ k] = 0 }
    }

    /// Copies bytes followed by zero padding up to a word boundary of the field.
    @inlinable
    mutating func writePaddedBytes(_ bytes: UnsafeRawBufferPointer) {
        let count = bytes.count
        let size = (count &+ 7) & ~7
        guard size > 0 else { return }
        // Zero the field's last word first; the copy then overwrites its leading bytes.
        zeroWord(at: position &+ size &- 8)
        UnsafeMutableRawBufferPointer(rebasing: raw[position..<(position &+ count)]).copyMemory(from: bytes)
        position &+= size
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
            let size = (count &+ 8) & ~7
            // The field's last word holds the NUL and the padding: zero it, then copy the text over its start.
            zeroWord(at: position &+ size &- 8)
            if count > 0 {
                UnsafeMutableRawBufferPointer(rebasing: raw[position..<(position &+ count)])
                    .copyMemory(from: UnsafeRawBufferPointer(utf8))
            }
            position &+= size
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
