#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Byte scans done eight bytes at a time (or by the C library's `memchr`).
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

    /// The classic "word has a zero byte" test.
    @inlinable @inline(__always)
    static func hasZeroByte(_ w: UInt64) -> Bool {
        (w &- 0x0101_0101_0101_0101) & ~w & 0x8080_8080_8080_8080 != 0
    }

    /// Index of the first zero byte at or after `start`, before `end`; nil if there is none.
    @inlinable
    static func firstNUL(_ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int? = nil) -> Int? {
        let end = end ?? bytes.count
        guard start < end, let base = bytes.baseAddress else { return nil }
        #if canImport(Glibc) || canImport(Musl) || canImport(Darwin)
            guard let hit = memchr(base + start, 0, end &- start) else { return nil }
            return base.distance(to: UnsafeRawPointer(hit))
        #else
            var index = start
            while index &+ 8 <= end {
                if hasZeroByte(word(bytes, index)) { break }
                index &+= 8
            }
            while index < end {
                if bytes[index] == 0 { return index }
                index &+= 1
            }
            return nil
        #endif
    }

    /// Finds the NUL that ends a text field and, in the same pass, whether the text before it is ASCII.
    @inlinable
    static func textEnd(_ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int) -> (nul: Int?, ascii: Bool) {
        var index = start
        var high: UInt64 = 0
        while index &+ 8 <= end {
            let w = word(bytes, index)
            if hasZeroByte(w) { break }
            high |= w
            index &+= 8
        }
        while index < end {
            let byte = bytes[index]
            if byte == 0 { return (index, high & 0x8080_8080_8080_8080 == 0) }
            high |= UInt64(byte)
            index &+= 1
        }
        return (nil, false)
    }
}
