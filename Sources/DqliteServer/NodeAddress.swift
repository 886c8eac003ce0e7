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

    /// The longest text accepted, in bytes (libdqlite copies addresses into a 256-byte buffer).
    static let maximumLength = 255
    /// The longest abstract socket name after `@` (`sun_path` is 108 bytes, starting with a NUL).
    static let maximumAbstractNameLength = 106
    /// The longest host name (RFC 1035).
    static let maximumHostNameLength = 253

    /// Parses `text`; `role` ("address" or "bind address") names it in errors. `@` alone is only allowed
    /// when `allowAutomaticAbstract` is true (bind addresses).
    init(parsing text: String, role: String, allowAutomaticAbstract: Bool, nodeID: UInt64) throws(DqliteNodeError) {
        func invalid(_ why: String) -> DqliteNodeError {
            DqliteNodeError(
                .invalidAddress, message: "invalid \(role) \"\(Self.printable(text))\": \(why)", nodeID: nodeID)
        }
        guard !text.isEmpty else { throw invalid("empty") }
        guard text.utf8.count <= Self.maximumLength else {
            throw invalid("longer than \(Self.maximumLength) bytes")
        }
        guard !text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw invalid("contains control characters")
        }
        if text.hasPrefix("@") {
            let name = text.utf8.dropFirst()
            if name.isEmpty {
                guard allowAutomaticAbstract else {
                    throw invalid("\"@\" (an automatically chosen abstract socket) is only valid as a bind address")
                }
            } else if name.count > Self.maximumAbstractNameLength {
                throw invalid("an abstract socket name must be at most \(Self.maximumAbstractNameLength) bytes")
            }
            self = .abstractUnix(text)
            return
        }
        if text.hasPrefix("[") {
            throw invalid("IPv6 addresses are not supported: libdqlite 1.11.1 binds and dials IPv4 only")
        }
        if text.hasPrefix("/") {
            throw invalid("Unix socket paths are not supported: use host:port or an abstract socket @name")
        }
        guard let colon = text.lastIndex(of: ":") else { throw invalid("missing :port") }
        let host = text[..<colon]
        let portText = text[text.index(after: colon)...]
        guard !host.contains(":") else {
            throw invalid("IPv6 addresses are not supported: libdqlite 1.11.1 binds and dials IPv4 only")
        }
        guard !host.isEmpty else { throw invalid("missing host") }
        guard !portText.isEmpty, portText.utf8.count <= 5, portText.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            let portValue = Int(portText), (1...65535).contains(portValue)
        else {
            throw invalid(
                "port must be a number from 1 to 65535 (0 cannot be used: libdqlite never reports the port it picked)")
        }
        let port = UInt16(truncatingIfNeeded: portValue)
        let hostText = String(host)
        if Self.isIPv4Literal(hostText) {
            self = .ipv4(host: hostText, port: port)
            return
        }
        if hostText.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E }) {
            throw invalid("\"\(hostText)\" is not a valid IPv4 address")
        }
        guard hostText.utf8.count <= Self.maximumHostNameLength else {
            throw invalid("host name longer than \(Self.maximumHostNameLength) bytes")
        }
        let labels = hostText.split(separator: ".", omittingEmptySubsequences: false)
        for label in labels {
            guard !label.isEmpty, label.utf8.count <= 63 else {
                throw invalid("host name labels must be 1 to 63 characters")
            }
            guard label.utf8.first != 0x2D, label.utf8.last != 0x2D else {
                throw invalid("host name labels must not start or end with \"-\"")
            }
            guard
                label.utf8.allSatisfy({ byte in
                    (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                        || byte == 0x2D || byte == 0x5F
                })
            else { throw invalid("host contains characters not allowed in a host name") }
        }
        self = .hostName(hostText, port: port)
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

    /// `text` with control characters escaped, for error messages.
    static func printable(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars.prefix(300) {
            if scalar.value < 0x20 || scalar.value == 0x7F {
                out += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
