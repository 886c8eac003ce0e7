/// A reusable output buffer for frames: the way a connection should encode.
///
/// ```swift
/// var encoder = FrameEncoder()
/// encoder.reset()
/// try encoder.append(SQLCall(sql: "SELECT ?", parameters: [.integer(1)]), query: true)
/// encoder.withUnsafeBytes { socket.write($0) }
/// ```
///
/// Its storage only grows; after the first few requests encoding writes straight into memory that is
/// already there — no allocation, no per-request resizing. (Stale bytes from earlier frames are fine:
/// every byte of a frame, padding included, is written.)
public struct FrameEncoder: Sendable {
    @usableFromInline var storage: [UInt8]
    @usableFromInline var held: Int

    /// Bytes of encoded frames held.
    public var count: Int { held }

    /// Creates an encoder with room for `capacity` bytes.
    public init(capacity: Int = 4096) {
        storage = []
        storage.appendWireBytes(count: capacity)
        held = 0
    }

    /// Forgets the frames held (keeps the storage).
    public mutating func reset() { held = 0 }

    /// The encoded bytes.
    public var bytes: [UInt8] { Array(storage[0..<count]) }

    /// Runs `body` with the encoded bytes.
    public func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try storage.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
    }

    /// Appends the handshake word (the protocol version) a client sends first.
    public mutating func appendHandshake(_ version: UInt64 = ProtocolVersion.current) {
        reserve(8)
        let start = count
        storage.withUnsafeMutableBytes { raw in
            var writer = WireWriter(raw, position: start)
            writer.writeUInt64(version)
        }
        held &+= 8
    }

    /// Appends a request frame.
    public mutating func append(_ request: Request) throws { try appendBody(request) }

    /// Appends a response frame.
    public mutating func append(_ response: Response) throws {
        _ = try response.bodySize()  // checks what only the size pass checks (SERVERS roles, row widths)
        try appendBody(response)
    }

    /// Appends EXEC_SQL, or QUERY_SQL when `query` is true.
    @inlinable
    public mutating func append(_ call: SQLCall, query: Bool) throws {
        try appendBody(SQLCallFrame(call: call, query: query))
    }

    /// Appends EXEC, or QUERY when `query` is true.
    @inlinable
    public mutating func append(_ call: StatementCall, query: Bool) throws {
        try appendBody(StatementCallFrame(call: call, query: query))
    }

    /// One pass into the storage already there; when the frame does not fit, the pass measured it: grow, write
    /// again.
    @inlinable
    mutating func appendBody(_ body: some FrameBody) throws {
        let start = count
        var end = try storage.withUnsafeMutableBytes { try body.writeFrame(into: $0, at: start) }
        if end > storage.count {
            reserve(end &- start)
            end = try storage.withUnsafeMutableBytes { try body.writeFrame(into: $0, at: start) }
        }
        held = end
    }

    @inlinable
    mutating func reserve(_ size: Int) {
        let needed = count &+ size
        if storage.count < needed {
            storage.appendWireBytes(count: Swift.max(needed &- storage.count, storage.count))
        }
    }
}
