/// Byte scans done eight bytes at a time.
///
/// These are not protocol reads: they only ask "is any byte zero / non-ASCII", which has the same answer
/// whatever the byte order, so they may load a word unaligned from the buffer. All protocol integers go
/// through ``WireReader`` and ``WireWriter``.
@usableFromInline
enum WireScan {
    @inlinable @inline(__always)
    static func word(_ bytes: UnsafeRawBufferPointer, _ index: Int) -> UInt64 {
        bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)
    }

    /// Index of the first zero byte at or after `start`, before `end`; nil if there is none.
    @inlinable
    static func firstNUL(_ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int? = nil) -> Int? {
        let end = end ?? bytes.count
        var index = start
        while index &+ 8 <= end {
            let w = word(bytes, index)
            // The classic "word has a zero byte" test.
            if (w &- 0x0101_0101_0101_0101) & ~w & 0x8080_8080_8080_8080 != 0 { break }
            index &+= 8
        }
        while index < end {
            if bytes[index] == 0 { return index }
            index &+= 1
        }
        return nil
    }

    /// True if every byte is below 0x80.
    @inlinable
    static func isASCII(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let count = bytes.count
        var index = 0
        var high: UInt64 = 0
        while index &+ 8 <= count {
            high |= word(bytes, index)
            index &+= 8
        }
        while index < count {
            high |= UInt64(bytes[index])
            index &+= 1
        }
        return high & 0x8080_8080_8080_8080 == 0
    }
}
