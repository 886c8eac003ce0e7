import DqliteWire
import Glibc

/// A node address as libdqlite 1.11.1 accepts it, parsed and checked before any C call sees it.
///
/// libdqlite's own parser copies the text into a 256-byte stack buffer and accepts only numeric IPv4
/// (`uv_ip4_addr`) or `@` abstract Unix sockets: `localhost:9001` and `[::1]:9001` are refused with
/// `DQLITE_MISUSE` and an empty message. So names are resolved here (``AddressResolver``) and everything
/// else is rejected with a typed error.
enum NodeAddress: Hashable, Sendable {
    /// A numeric IPv4 address and port, ready for libdqlite.
    case ipv4(host: String, port: UInt16)
    /// A host name still to be resolved to IPv4.
    case hostName(String, port: UInt16)
    /// A Linux abstract Unix socket: `@name`, or `@` alone (bind only: libdqlite picks a free name).
    case abstractUnix(String)

    /// The longest host name (RFC 1035).
    static let maximumHostNameLength = 253

    /// Parses `text` with the one address grammar (DqliteWire's ``NodeAddressSyntax``), then narrows it to
    /// what libdqlite 1.11.1 binds and dials; `role` ("address" or "bind address") names it in errors. `@`
    /// alone is only allowed when `allowAutomaticAbstract` is true (bind addresses).
    init(parsing text: String, role: String, allowAutomaticAbstract: Bool, nodeID: UInt64) throws(DqliteNodeError) {
        func invalid(_ why: String) -> DqliteNodeError {
            DqliteNodeError(
                .invalidAddress, message: "invalid \(role) \"\(NodeAddressSyntax.printable(text))\": \(why)",
                nodeID: nodeID)
        }
        if text == "@" {
            guard allowAutomaticAbstract else {
                throw invalid("\"@\" (an automatically chosen abstract socket) is only valid as a bind address")
            }
            self = .abstractUnix(text)
            return
        }
        let syntax: NodeAddressSyntax
        do {
            syntax = try NodeAddressSyntax(parsing: text)
        } catch {
            throw invalid(error.reason)
        }
        switch syntax {
        case .abstract:
            self = .abstractUnix(text)
        case .unix:
            throw invalid("Unix socket paths are not supported: use host:port or an abstract socket @name")
        case .tcp(let host, let port):
            guard !host.contains(":") else {
                throw invalid("IPv6 addresses are not supported: libdqlite 1.11.1 binds and dials IPv4 only")
            }
            self = try Self.ipv4OrName(host: host, port: UInt16(truncatingIfNeeded: port), invalid: invalid)
        }
    }

    /// An IPv4 literal, or a host name that follows RFC 1035's label rules (resolved later).
    private static func ipv4OrName(
        host: String, port: UInt16, invalid: (String) -> DqliteNodeError
    ) throws(DqliteNodeError) -> NodeAddress {
        if isIPv4Literal(host) { return .ipv4(host: host, port: port) }
        if host.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E }) {
            throw invalid("\"\(host)\" is not a valid IPv4 address")
        }
        guard host.utf8.count <= maximumHostNameLength else {
            throw invalid("host name longer than \(maximumHostNameLength) bytes")
        }
        for label in host.split(separator: ".", omittingEmptySubsequences: false) {
            guard !label.isEmpty, label.utf8.count <= 63 else {
                throw invalid("host name labels must be 1 to 63 characters")
            }
            guard label.utf8.first != 0x2D, label.utf8.last != 0x2D else {
                throw invalid("host name labels must not start or end with \"-\"")
            }
        }
        return .hostName(host, port: port)
    }

    /// The text libdqlite gets, once resolved. Nil for a host name that still needs resolving.
    var numericText: String? {
        switch self {
        case .ipv4(let host, let port): return "\(host):\(port)"
        case .abstractUnix(let text): return text
        case .hostName: return nil
        }
    }

    /// True for a dotted-quad IPv4 literal (`inet_pton` rules: exactly four decimal parts, each 0–255).
    static func isIPv4Literal(_ host: String) -> Bool {
        var address = in_addr()
        return inet_pton(AF_INET, host, &address) == 1
    }
}
