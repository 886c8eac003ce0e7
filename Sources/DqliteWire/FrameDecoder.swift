/// Splits a byte stream into frames, whatever the chunking of the input (one byte at a time works).
///
/// ```swift
/// var decoder = FrameDecoder()
/// decoder.append(chunk)
/// while let frame = try decoder.nextFrame() { … }
/// ```
///
/// The header is checked before any body memory is reserved: an empty body or one larger than
/// ``WireLimits/maxFrameBytes`` is an error. After the first error the decoder is *poisoned*: every later
/// call throws the same error, because the position in the stream can no longer be trusted.
public struct FrameDecoder: Sendable {
    /// The limits in force.
    public let limits: WireLimits

    private var buffer: [UInt8] = []
    /// Index in `buffer` of the first unread byte.
    private var readIndex = 0
    /// Stream offset of `buffer[readIndex]`.
    private var streamOffset = 0
    private var poison: WireError?

    /// Creates a decoder.
    public init(limits: WireLimits = .default) {
        self.limits = limits
    }

    /// Bytes received but not yet returned as part of a frame.
    public var bufferedByteCount: Int { buffer.count &- readIndex }

    /// Stream offset of the next byte the decoder will read.
    public var offset: Int { streamOffset }

    /// The error that poisoned the decoder, if any.
    public var error: WireError? { poison }

    /// Adds received bytes.
    public mutating func append(_ bytes: some Sequence<UInt8>) {
        compactIfNeeded()
        buffer.append(contentsOf: bytes)
    }

    /// Adds received bytes from raw memory.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        compactIfNeeded()
        buffer.append(contentsOf: bytes)
    }

    private mutating func compactIfNeeded() {
        // Drop consumed bytes once they are the larger part of the buffer, keeping appends amortised O(1).
        if readIndex > 0 && readIndex >= buffer.count &- readIndex {
            buffer.removeSubrange(0..<readIndex)
            readIndex = 0
        }
    }

    /// Reads the 8-byte protocol-version word a client sends first. Returns nil until 8 bytes are buffered.
    public mutating func nextHandshake() throws -> UInt64? {
        if let poison { throw poison }
        guard bufferedByteCount >= 8 else { return nil }
        let version = buffer.withUnsafeBytes { WireReader.loadUInt64($0, readIndex) }
        consume(8)
        return version
    }

    /// Returns the next complete frame, or nil if more bytes are needed.
    public mutating func nextFrame() throws -> Frame? {
        if let poison { throw poison }
        guard bufferedByteCount >= FrameHeader.size else { return nil }
        let header = buffer.withUnsafeBytes { FrameHeader.decode($0, at: readIndex) }
        if header.words == 0 {
            try fail(WireError(.emptyBody, at: streamOffset, "frame of type \(header.type) announces an empty body"))
        }
        let length = header.bodyLength
        if length > limits.maxFrameBytes {
            try fail(
                WireError(
                    .frameTooLarge, at: streamOffset,
                    "frame of type \(header.type) announces \(length) body bytes, over the limit of \(limits.maxFrameBytes)"
                ))
        }
        guard bufferedByteCount &- FrameHeader.size >= length else { return nil }
        let start = readIndex &+ FrameHeader.size
        let body = Array(buffer[start..<(start &+ length)])
        let frame = Frame(header: header, body: body, offset: streamOffset)
        consume(FrameHeader.size &+ length)
        return frame
    }

    /// Marks the decoder as failed with `error` and throws it.
    public mutating func fail(_ error: WireError) throws -> Never {
        poison = error
        throw error
    }

    private mutating func consume(_ count: Int) {
        readIndex &+= count
        streamOffset &+= count
        if readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            readIndex = 0
        }
    }
}
