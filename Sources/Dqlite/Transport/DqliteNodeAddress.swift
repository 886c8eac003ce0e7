import DqliteWire

/// Where a dqlite node listens: TCP `host:port` (IPv4, `[IPv6]`, or a name), a Unix socket path, or a Linux
/// abstract socket `@name`.
///
/// Parsing is strict: `DqliteNodeAddress("127.0.0.1:9001")`, `"[::1]:9001"`, `"db1.example:9001"`,
/// `"@dqlite-1"`, `"/run/dqlite.sock"`. An IPv6 literal needs brackets. Addresses that a server reports
/// (leader hints, cluster members) are also checked with ``isDialable`` before they are followed or stored.
public struct DqliteNodeAddress: Hashable, Sendable, CustomStringConvertible {
    /// The transport and location (DqliteWire's `NodeAddressSyntax`: `.tcp(host:port:)`, `.unix(path:)`,
    /// `.abstract(name:)`).
    public typealias Kind = NodeAddressSyntax

    /// The longest address accepted, in bytes.
    public static let maximumLength = NodeAddressSyntax.maximumLength

    /// The parsed address.
    public let kind: Kind

    /// Parses an address; throws ``DqliteError/Code/invalidAddress`` with the reason.
    public init(_ text: String) throws {
        do {
            kind = try NodeAddressSyntax(parsing: text)
        } catch {
            throw DqliteError(
                .invalidAddress, "invalid node address \"\(NodeAddressSyntax.printable(text))\": \(error.reason)")
        }
    }

    /// A TCP address.
    public static func tcp(host: String, port: Int) throws -> DqliteNodeAddress {
        try DqliteNodeAddress(host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)")
    }

    /// The canonical text: `host:port`, `[v6]:port`, `/path` or `@name` (what dqlite nodes advertise).
    public var description: String { kind.description }

    /// False for addresses a client must never follow or store when a server reports them: the unspecified
    /// addresses `0.0.0.0` and `::` (they mean "this host" only to the node itself) and port-less or
    /// otherwise unusable forms.
    public var isDialable: Bool {
        guard case .tcp(let host, _) = kind else { return true }
        let unspecified: Set<String> = ["0.0.0.0", "::", "0:0:0:0:0:0:0:0", "::0"]
        return !unspecified.contains(host.lowercased())
    }
}
