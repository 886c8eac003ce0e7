/// The one place where dqlite bytes are written.
///
/// The writer stores every byte of a frame — padding included, written as zeros — into a destination that
/// may hold stale bytes (a reused buffer, a NIO `ByteBuffer`'s writable area). Integers are split into bytes
/// explicitly in little-endian order (`value >> 8`, `value >> 16`, …), so the bytes are the same on every
/// architecture.
///
/// Every write is bounded by the destination: a write that does not fit is skipped but still advances
/// ``position``. So one pass both writes the frame and, when the room was too small, measures exactly how much
/// is needed (``overflowed``); the caller then grows the room and writes again. A reused buffer therefore
/// encodes in a single pass, without computing the size first.
@usableFromInline
struct WireWriter {
    @usableFromInline let raw: UnsafeMutableRawBufferPointer
    @usableFromInline var position: Int

    @inlinable
    init(_ raw: UnsafeMutableRawBufferPointer, position: Int) {
        self.raw = raw
        self.position = position
    }

    /// True when some write did not fit: ``position`` is then the size the frame needs.
    @inlinable var overflowed: Bool { position > raw.count }

    @inlinable @inline(__always)
    mutating func writeUInt64(_ value: UInt64) {
        let p = position
        position = p &+ 8
        guard position <= raw.count else { return }
        raw[p] = UInt8(truncatingIfNeeded: value)
        raw[p &+ 1] = UInt8(truncatingIfNeeded: value &>> 8)
        raw[p &+ 2] = UInt8(truncatingIfNeeded: value &>> 16)
        raw[p &+ 3] = UInt8(truncatingIfNeeded: value &>> 24)
        raw[p &+ 4] = UInt8(truncatingIfNeeded: value &>> 32)
        raw[p &+ 5] = UInt8(truncatingIfNeeded: value &>> 40)
        raw[p &+ 6] = UInt8(truncatingIfNeeded: value &>> 48)
        raw[p &+ 7] = UInt8(truncatingIfNeeded: value &>> 56)
    }

    @inlinable @inline(__always)
    mutating func writeUInt32(_ value: UInt32) {
        let p = position
        position = p &+ 4
        guard position <= raw.count else { return }
        raw[p] = UInt8(truncatingIfNeeded: value)
        raw[p &+ 1] = UInt8(truncatingIfNeeded: value &>> 8)
        raw[p &+ 2] = UInt8(truncatingIfNeeded: value &>> 16)
        raw[p &+ 3] = UInt8(truncatingIfNeeded: value &>> 24)
    }

    @inlinable @inline(__always)
    mutating func writeUInt16(_ value: UInt16) {
        let p = position
        position = p &+ 2
        guard position <= raw.count else { return }
        raw[p] = UInt8(truncatingIfNeeded: value)
        raw[p &+ 1] = UInt8(truncatingIfNeeded: value &>> 8)
    }

    @inlinable @inline(__always)
    mutating func writeUInt8(_ value: UInt8) {
        let p = position
        position = p &+ 1
        guard position <= raw.count else { return }
        raw[p] = value
    }

    /// Overwrites 4 bytes at `index` (which must have been written) with a little-endian `uint32`.
    @inlinable
    func setUInt32(_ value: UInt32, at index: Int) {
        guard index &+ 4 <= raw.count else { return }
        raw[index] = UInt8(truncatingIfNeeded: value)
        raw[index &+ 1] = UInt8(truncatingIfNeeded: value &>> 8)
        raw[index &+ 2] = UInt8(truncatingIfNeeded: value &>> 16)
        raw[index &+ 3] = UInt8(truncatingIfNeeded: value &>> 24)
    }

    /// Writes zero bytes up to the next multiple of 8 from `origin`.
    @inlinable @inline(__always)
    mutating func padToWord(from origin: Int) {
        let end = origin &+ ((position &- origin &+ 7) & ~7)
        if end <= raw.count {
            while position < end {
                raw[position] = 0
                position &+= 1
            }
        }
        position = end
    }

    /// Zeroes the 8 bytes at `index` (when they fit).
    @inlinable @inline(__always)
    func zeroWord(at index: Int) {
        guard index &+ 8 <= raw.count else { return }
        for k in 0..<8 { raw[index &+ k] = 0 }
    }

    /// Copies bytes followed by zero padding up to a word boundary of the field.
    @inlinable
    mutating func writePaddedBytes(_ bytes: UnsafeRawBufferPointer) {
        let count = bytes.count
        let size = (count &+ 7) & ~7
        let start = position
        position = start &+ size
        guard size > 0, position <= raw.count else { return }
        // Zero the field's last word first; the copy then overwrites its leading bytes.
        zeroWord(at: position &- 8)
        UnsafeMutableRawBufferPointer(rebasing: raw[start..<(start &+ count)]).copyMemory(from: bytes)
    }

    /// Writes a NUL-terminated, zero-padded text field. Text containing NUL cannot be represented.
    @inlinable
    mutating func writeText(_ text: String, _ field: StaticString) throws {
        var text = text
        try text.withUTF8 { utf8 in
            let raw = UnsafeRawBufferPointer(utf8)
            if WireScan.firstNUL(raw, from: 0) != nil {
                throw WireError(.unencodable, at: 0, "\(field) contains a NUL byte, which dqlite text cannot carry")
            }
            let count = utf8.count
            let start = position
            // The NUL terminator and the padding: (count + 1) rounded up to a multiple of 8.
            position = start &+ ((count &+ 8) & ~7)
            guard position <= self.raw.count else { return }
            // The field's last word holds the NUL and the padding: zero it, then copy the text over its start.
            zeroWord(at: position &- 8)
            if count > 0 {
                UnsafeMutableRawBufferPointer(rebasing: self.raw[start..<(start &+ count)]).copyMemory(from: raw)
            }
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

/// Sizes of encoded fields, for the callers that need the exact size before writing.
@usableFromInline
enum WireSize {
    /// A text field: the UTF-8 bytes, a NUL, zero padding to a word.
    @inlinable @inline(__always)
    static func text(_ text: String) -> Int { (text.utf8.count &+ 8) & ~7 }

    /// Raw bytes padded to a word.
    @inlinable @inline(__always)
    static func padded(_ count: Int) -> Int { (count &+ 7) & ~7 }
}
