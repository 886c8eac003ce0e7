/// An error found while decoding or encoding dqlite wire bytes.
///
/// Every decoding error names what was wrong (``code`` and ``reason``) and where: ``offset`` is the byte
/// offset at which the offending field starts, counted from the beginning of the stream (or of the frame,
/// when a frame is decoded on its own). A connection that produced a decoding error must be closed: the
/// position in the stream can no longer be trusted.
public struct WireError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of problem this is. New codes may be added; match on the static members.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// A stable name for the code, e.g. `"truncated"`.
        public let name: String

        private init(_ name: String) { self.name = name }

        public var description: String { name }

        /// The bytes end before the field (or frame) is complete.
        public static let truncated = Code("truncated")
        /// A frame header announces a body larger than ``WireLimits/maxFrameBytes``.
        public static let frameTooLarge = Code("frameTooLarge")
        /// A frame header announces an empty body, which no message has.
        public static let emptyBody = Code("emptyBody")
        /// The message type code is not one this protocol defines.
        public static let unknownMessageType = Code("unknownMessageType")
        /// The schema byte is not one this message type supports.
        public static let unsupportedSchema = Code("unsupportedSchema")
        /// A value carries a type code outside {1, 2, 3, 4, 5, 9, 10, 11}.
        public static let invalidValueType = Code("invalidValueType")
        /// A text field has no NUL terminator inside the frame.
        public static let missingTerminator = Code("missingTerminator")
        /// A text field is not valid UTF-8.
        public static let invalidUTF8 = Code("invalidUTF8")
        /// A count or size exceeds a configured ``WireLimits`` cap.
        public static let limitExceeded = Code("limitExceeded")
        /// A count or size cannot be satisfied by the bytes present, or overflows.
        public static let invalidLength = Code("invalidLength")
        /// Bytes are left over after a complete message body.
        public static let trailingBytes = Code("trailingBytes")
        /// A ROWS frame does not end with the PART or DONE marker word where one is required.
        public static let invalidMarker = Code("invalidMarker")
        /// The handshake word is not a protocol version this codec knows.
        public static let unknownProtocolVersion = Code("unknownProtocolVersion")
        /// A message cannot be represented on the wire (e.g. text containing NUL, too many parameters).
        public static let unencodable = Code("unencodable")
        /// A value is outside the range its field allows (e.g. a negative row id where one is impossible).
        public static let invalidValue = Code("invalidValue")
    }

    /// The kind of problem.
    public var code: Code
    /// Byte offset where the offending field starts (for encoding errors: 0).
    public var offset: Int
    /// A human-readable explanation, e.g. `"column count 70000 exceeds the limit of 32767"`.
    public var reason: String

    /// Creates an error.
    public init(_ code: Code, at offset: Int, _ reason: String) {
        self.code = code
        self.offset = offset
        self.reason = reason
    }

    public var description: String { "\(reason) (\(code) at byte offset \(offset))" }
}
