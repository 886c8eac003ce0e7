/// The one place where dqlite bytes are read.
///
/// Integers are assembled byte by byte in little-endian order (`b0 | b1 << 8 | …`), never by reinterpreting
/// memory with the host's layout, so the result is the same on every architecture. Every read first checks
/// the bytes that are left, and every count is checked against them before anything is allocated.
///
/// A reader borrows the bytes of one frame body; it must not outlive the `withUnsafeBytes` call that made it.
@usableFromInline
struct WireReader {
    @usableFromInline let bytes: UnsafeRawBufferPointer
    /// Position inside `bytes`.
    @usableFromInline var position: Int
    /// Stream offset of `bytes[0]`, for error messages.
    @usableFromInline let base: Int

    @inlinable
    init(_ bytes: UnsafeRawBufferPointer, base: Int, position: Int = 0) {
        self.bytes = bytes
        self.base = base
        self.position = position
    }

    /// Bytes not yet read.
    @inlinable var remaining: Int { bytes.count - position }

    /// Stream offset of the next byte to be read.
    @inlinable var offset: Int { base + position }

    @inlinable
    func truncated(_ field: StaticString, need: Int) -> WireError {
        WireError(.truncated, at: offset, "\(field) needs \(need) bytes but only \(remaining) are left")
    }

    /// Reads a `uint64` (little-endian).
    @inlinable @inline(__always)
    mutating func readUInt64(_ field: StaticString) throws -> UInt64 {
        guard remaining >= 8 else { throw truncated(field, need: 8) }
        let value = WireReader.loadUInt64(bytes, position)
        position &+= 8
        return value
    }

    /// Reads a `uint32` (little-endian).
    @inlinable
    mutating func readUInt32(_ field: StaticString) throws -> UInt32 {
        guard remaining >= 4 else { throw truncated(field, need: 4) }
        let p = position
        let value =
            UInt32(bytes[p]) | UInt32(bytes[p &+ 1]) << 8 | UInt32(bytes[p &+ 2]) << 16 | UInt32(bytes[p &+ 3]) << 24
        position &+= 4
        return value
    }

    /// Reads one byte.
    @inlinable
    mutating func readUInt8(_ field: StaticString) throws -> UInt8 {
        guard remaining >= 1 else { throw truncated(field, need: 1) }
        let value = bytes[position]
        position &+= 1
        return value
    }

    /// Looks at the next 8 bytes without consuming them; nil when fewer are left.
    @inlinable
    func peekUInt64() -> UInt64? {
        guard remaining >= 8 else { return nil }
        return WireReader.loadUInt64(bytes, position)
    }

    /// Assembles a little-endian `uint64` from 8 bytes that the caller has checked are present.
    @inlinable @inline(__always)
    static func loadUInt64(_ bytes: UnsafeRawBufferPointer, _ p: Int) -> UInt64 {
        // Two halves: one long expression is too much for the Swift 6.0 type checker.
        let low: UInt64 =
            UInt64(bytes[p]) | UInt64(bytes[p &+ 1]) << 8 | UInt64(bytes[p &+ 2]) << 16 | UInt64(bytes[p &+ 3]) << 24
        let high: UInt64 =
            UInt64(bytes[p &+ 4]) | UInt64(bytes[p &+ 5]) << 8 | UInt64(bytes[p &+ 6]) << 16 | UInt64(bytes[p &+ 7])
            << 24
        return low | high << 32
    }

    /// Skips `count` bytes (padding or ignored fields); their content is not checked.
    @inlinable @inline(__always)
    mutating func skip(_ count: Int, _ field: StaticString) throws {
        guard count >= 0, remaining >= count else { throw truncated(field, need: count) }
        position &+= count
    }

    /// Skips padding up to the next 8-byte boundary of the body. Padding is never required to be zero.
    @inlinable
    mutating func skipToWordBoundary(_ field: StaticString) throws {
        let aligned = (position &+ 7) & ~7
        guard aligned <= bytes.count else { throw truncated(field, need: aligned &- position) }
        position = aligned
    }

    /// Reads a NUL-terminated, zero-padded UTF-8 text field of at most `maxBytes` bytes.
    @inlinable @inline(__always)
    mutating func readText(_ field: StaticString, maxBytes: Int) throws -> String {
        let start = position
        let count = bytes.count
        // Never scan further than the cap allows: a hostile frame cannot make us walk 64 MiB for a name.
        let scanEnd = maxBytes >= count &- start ? count : start &+ maxBytes &+ 1
        let (nul, ascii) = WireScan.textEnd(bytes, from: start, to: scanEnd)
        guard let end = nul else {
            if scanEnd < count {
                throw WireError(
                    .limitExceeded, at: base &+ start, "\(field) is longer than the limit of \(maxBytes) bytes")
            }
            throw WireError(
                .missingTerminator, at: base &+ start, "\(field) has no NUL terminator before the end of the frame")
        }
        let next = (end &+ 8) & ~7  // the NUL, then zero padding to the next word
        guard next <= count else {
            throw WireError(.truncated, at: base &+ end, "\(field) padding runs past the end of the frame")
        }
        position = next
        if end == start { return "" }
        let text = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
        if ascii { return String(decoding: text, as: UTF8.self) }
        // Non-ASCII: strict validation. The C-string initializer takes the standard library's fast validator
        // (much faster than the generic `String(validating:as:)`); it stops at the NUL found above, inside
        // the frame.
        guard let pointer = bytes.baseAddress,
            let string = String(validatingCString: (pointer + start).assumingMemoryBound(to: CChar.self))
        else {
            throw WireError(.invalidUTF8, at: base &+ start, "\(field) is not valid UTF-8")
        }
        return string
    }

    /// Reads a blob: a `uint64` length, the bytes, and zero padding.
    @inlinable @inline(__always)
    mutating func readBlob(_ field: StaticString, maxBytes: Int) throws -> [UInt8] {
        let range = try readBlobRange(field, maxBytes: maxBytes)
        return [UInt8](UnsafeRawBufferPointer(rebasing: bytes[range]))
    }

    /// Reads a blob's length and skips its bytes and padding, returning the range of the bytes in `bytes`.
    @inlinable @inline(__always)
    mutating func readBlobRange(_ field: StaticString, maxBytes: Int) throws -> Range<Int> {
        let lengthOffset = offset
        let length = try readUInt64(field)
        guard length <= UInt64(remaining) else {
            throw WireError(
                .invalidLength, at: lengthOffset,
                "\(field) length \(length) exceeds the \(remaining) bytes left in the frame")
        }
        let n = Int(length)
        guard n <= maxBytes else {
            throw WireError(
                .limitExceeded, at: lengthOffset, "\(field) length \(n) exceeds the limit of \(maxBytes) bytes")
        }
        let start = position
        let next = (start &+ n &+ 7) & ~7
        guard next <= bytes.count else {
            throw WireError(.truncated, at: base &+ start &+ n, "\(field) padding runs past the end of the frame")
        }
        position = next
        return start..<(start &+ n)
    }

    /// Reads a count and checks it against the limit and the bytes left (each item needs at least
    /// `minimumItemBytes`), so that no allocation sized by the count can exceed what the frame holds.
    @inlinable
    mutating func readCount(_ field: StaticString, limit: Int, minimumItemBytes: Int) throws -> Int {
        let countOffset = offset
        let raw = try readUInt64(field)
        return try checkCount(raw, field, at: countOffset, limit: limit, minimumItemBytes: minimumItemBytes)
    }

    @inlinable
    func checkCount(_ raw: UInt64, _ field: StaticString, at countOffset: Int, limit: Int, minimumItemBytes: Int) throws
        -> Int
    {
        guard raw <= UInt64(limit) else {
            throw WireError(.limitExceeded, at: countOffset, "\(field) \(raw) exceeds the limit of \(limit)")
        }
        let n = Int(raw)
        let (needed, overflow) = n.multipliedReportingOverflow(by: minimumItemBytes)
        guard !overflow, needed <= remaining else {
            throw WireError(
                .invalidLength, at: countOffset,
                "\(field) \(n) needs at least \(minimumItemBytes) bytes each but only \(remaining) are left")
        }
        return n
    }

    /// Fails unless every byte of the body was consumed.
    @inlinable
    func expectEnd(_ message: StaticString) throws {
        guard remaining == 0 else {
            throw WireError(.trailingBytes, at: offset, "\(remaining) unexpected bytes after the \(message) body")
        }
    }
}
