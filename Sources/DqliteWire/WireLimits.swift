/// Caps the decoder enforces before it allocates anything on behalf of the peer.
///
/// Every count and size read from the wire is checked twice: first against the bytes actually present in
/// the frame (so a lying length can never cause an allocation), then against these semantic caps.
/// The defaults accept everything a real dqlite server sends while refusing absurd values.
public struct WireLimits: Hashable, Sendable {
    /// Largest frame body accepted, in bytes. Default 64 MiB. (One ROWS frame holds at least one whole row,
    /// so raise this if a single row can be larger.)
    public var maxFrameBytes: Int
    /// Most columns in a ROWS frame. Default 32767, SQLite's hard upper bound for `SQLITE_MAX_COLUMN`.
    public var maxColumns: Int
    /// Most values in a parameter tuple. Default 65535.
    public var maxParameters: Int
    /// Most nodes in a SERVERS response. Default 10000.
    public var maxNodes: Int
    /// Most files in a FILES response. Default 100 (servers always send 2).
    public var maxFiles: Int
    /// Longest TEXT/ISO8601 value or SQL text, in bytes. Default 64 MiB.
    public var maxTextBytes: Int
    /// Longest BLOB value or dumped file, in bytes. Default 64 MiB.
    public var maxBlobBytes: Int
    /// Longest column name, database name, VFS name or file name, in bytes. Default 64 KiB.
    public var maxNameBytes: Int
    /// Longest node address, in bytes. Default 1024.
    public var maxAddressBytes: Int
    /// Longest FAILURE message, in bytes. Default 64 KiB.
    public var maxMessageBytes: Int

    /// The default limits.
    public static let `default` = WireLimits()

    /// Creates limits; every parameter defaults to the documented value.
    public init(
        maxFrameBytes: Int = 64 << 20,
        maxColumns: Int = 32_767,
        maxParameters: Int = 65_535,
        maxNodes: Int = 10_000,
        maxFiles: Int = 100,
        maxTextBytes: Int = 64 << 20,
        maxBlobBytes: Int = 64 << 20,
        maxNameBytes: Int = 64 << 10,
        maxAddressBytes: Int = 1024,
        maxMessageBytes: Int = 64 << 10
    ) {
        self.maxFrameBytes = maxFrameBytes
        self.maxColumns = maxColumns
        self.maxParameters = maxParameters
        self.maxNodes = maxNodes
        self.maxFiles = maxFiles
        self.maxTextBytes = maxTextBytes
        self.maxBlobBytes = maxBlobBytes
        self.maxNameBytes = maxNameBytes
        self.maxAddressBytes = maxAddressBytes
        self.maxMessageBytes = maxMessageBytes
    }
}
