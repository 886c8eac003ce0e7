/// Where a dqlite node listens: TCP `host:port` (IPv4, `[IPv6]`, or a name), a Unix socket path, or a Linux
/// abstract socket `@name`.
///
/// Parsing is strict: `DqliteNodeAddress("127.0.0.1:9001")`, `"[::1]:9001"`, `"db1.example:9001"`,
/// `"@dqlite-1"`, `"/run/dqlite.sock"`. An IPv6 literal needs brackets. Addresses that a server reports
/// (leader hints, cluster members) are also checked with ``isDialable`` before they are followed or stored.
public struct DqliteNodeAddress: Hashable, Sendable, CustomStringConvertible {
    /// The transport and location.
    public enum Kind: Hashable, Sendable {
        /// TCP to a host (IPv4 literal, IPv6 literal without brackets, or a name) and port.
        case tcp(host: String, port: Int)
        /// A Unix-domain socket path.
        case unix(path: String)
        /// A Linux abstract-namespace Unix socket (written `@name`).
        case abstract(name: String)
    }

    /// The longest address accepted, in bytes.
    public static let maximumLength = 255

    /// The parsed address.
    public let kind: Kind

    /// Parses an address; throws ``DqliteError/Code/invalidAddress`` with the reason.
    public init(_ text: String) throws {
        func invalid(_ why: String) -> DqliteError {
            DqliteError(.invalidAddress, "invalid node address \"\(DqliteNodeAddress.printable(text))\": \(why)")
        }
        guard !text.isEmpty else { throw invalid("empty") }
        guard text.utf8.count <= Self.maximumLength else { throw invalid("longer than \(Self.maximumLength) bytes") }
        guard !text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw invalid("contains control characters")
        }
        if text.hasPrefix("@") {
            let name = String(text.dropFirst())
            guard !name.isEmpty, name.utf8.count <= 106 else {
                throw invalid("abstract socket name must be 1–106 bytes")
            }
            kind = .abstract(name: name)
            return
        }
        if text.hasPrefix("/") {
            guard text.utf8.count <= 107 else { throw invalid("Unix socket path must be at most 107 bytes") }
            kind = .unix(path: text)
            return
        }
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw invalid("missing ] after an IPv6 address") }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw invalid("missing :port after ]") }
            portText = rest.dropFirst()
            let parts = host.split(separator: "%", maxSplits: 1, omittingEmptySubsequences: false)
            let literal = parts[0]
            let zone = parts.count > 1 ? parts[1] : ""
            guard literal.contains(":"), literal.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }),
                parts.count == 1 || (!zone.isEmpty && zone.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }))
            else { throw invalid("not an IPv6 address in brackets") }
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw invalid("missing :port") }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            guard !host.contains(":") else { throw invalid("an IPv6 address must be written in brackets: [addr]:port") }
            guard !host.isEmpty else { throw invalid("missing host") }
            guard host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "_") })
            else { throw invalid("host contains characters not allowed in a name or address") }
        }
        guard !portText.isEmpty, portText.count <= 5, portText.allSatisfy({ $0.isASCII && $0.isNumber }),
            let port = Int(portText), (1...65535).contains(port)
        else { throw invalid("port must be a number from 1 to 65535") }
        kind = .tcp(host: String(host), port: port)
    }

    /// A TCP address.
    public static func tcp(host: String, port: Int) throws -> DqliteNodeAddress {
        try DqliteNodeAddress(host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)")
    }

    /// The canonical text: `host:port`, `[v6]:port`, `/path` or `@name` (what dqlite nodes advertise).
    public var description: String {
        switch kind {
        case .tcp(let host, let port): return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        case .unix(let path): return path
        case .abstract(let name): return "@" + name
        }
    }

    /// False for addresses a client must never follow or store when a server reports them: the unspecified
    /// addresses `0.0.0.0` and `::` (they mean "this host" only to the node itself) and port-less or
    /// otherwise unusable forms.
    public var isDialable: Bool {
        guard case .tcp(let host, _) = kind else { return true }
        let unspecified: Set<String> = ["0.0.0.0", "::", "0:0:0:0:0:0:0:0", "::0"]
        return !unspecified.contains(host.lowercased())
    }

    /// Text safe to print in an error: control characters escaped, long text cut.
    static func printable(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars.prefix(80) {
            out +=
                scalar.value < 0x20 || scalar.value == 0x7F ? "\\u{\(String(scalar.value, radix: 16))}" : String(scalar)
        }
        return text.unicodeScalars.count > 80 ? out + "…" : out
    }
}
