/// The text form of a dqlite node address, the one grammar that every layer parses with: TCP `host:port`
/// (an IPv4 literal, a name, or `[IPv6]` in brackets), a Unix socket path `/…`, or a Linux abstract socket
/// `@name`.
///
/// Nodes advertise addresses in this form (LEADER, CLUSTER, ADD), so it belongs with the wire codec. The
/// client (`DqliteNodeAddress`), the embedded node (which narrows it to what libdqlite can bind and dial),
/// and the shell all build on this parser and add their own rules on top.
public enum NodeAddressSyntax: Hashable, Sendable, CustomStringConvertible {
    /// TCP to a host (IPv4 literal, IPv6 literal without brackets, or a name) and port.
    case tcp(host: String, port: Int)
    /// A Unix-domain socket path.
    case unix(path: String)
    /// A Linux abstract-namespace Unix socket (written `@name`).
    case abstract(name: String)

    /// Why a text is not a node address.
    public struct Invalid: Error, Hashable, Sendable, CustomStringConvertible {
        /// The reason, in words (`"missing :port"`).
        public let reason: String

        /// Creates an error with its reason.
        public init(_ reason: String) { self.reason = reason }

        public var description: String { reason }
    }

    /// The longest address accepted, in bytes (libdqlite copies addresses into a 256-byte buffer).
    public static let maximumLength = 255
    /// The longest abstract socket name after `@` (`sun_path` is 108 bytes, starting with a NUL).
    public static let maximumAbstractNameLength = 106
    /// The longest Unix socket path (`sun_path` is 108 bytes, ending with a NUL).
    public static let maximumPathLength = 107

    /// Parses `text` strictly: no control characters, a port from 1 to 65535, an IPv6 literal only in
    /// brackets (with an optional `%zone`), host names of letters, digits, `.`, `-` and `_`.
    public init(parsing text: String) throws(Invalid) {
        guard !text.isEmpty else { throw Invalid("empty") }
        guard text.utf8.count <= Self.maximumLength else { throw Invalid("longer than \(Self.maximumLength) bytes") }
        guard !text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw Invalid("contains control characters")
        }
        if text.hasPrefix("@") {
            let name = String(text.dropFirst())
            guard !name.isEmpty, name.utf8.count <= Self.maximumAbstractNameLength else {
                throw Invalid("abstract socket name must be 1–\(Self.maximumAbstractNameLength) bytes")
            }
            self = .abstract(name: name)
            return
        }
        if text.hasPrefix("/") {
            guard text.utf8.count <= Self.maximumPathLength else {
                throw Invalid("Unix socket path must be at most \(Self.maximumPathLength) bytes")
            }
            self = .unix(path: text)
            return
        }
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw Invalid("missing ] after an IPv6 address") }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw Invalid("missing :port after ]") }
            portText = rest.dropFirst()
            let parts = host.split(separator: "%", maxSplits: 1, omittingEmptySubsequences: false)
            let literal = parts.first ?? ""
            let zone = parts.count > 1 ? parts[1] : ""
            guard literal.contains(":"), literal.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }),
                parts.count == 1 || (!zone.isEmpty && zone.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }))
            else { throw Invalid("not an IPv6 address in brackets") }
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw Invalid("missing :port") }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            guard !host.contains(":") else { throw Invalid("an IPv6 address must be written in brackets: [addr]:port") }
            guard !host.isEmpty else { throw Invalid("missing host") }
            guard host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "_") })
            else { throw Invalid("host contains characters not allowed in a name or address") }
        }
        guard !portText.isEmpty, portText.utf8.count <= 5, portText.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            let port = Int(portText), (1...65535).contains(port)
        else { throw Invalid("port must be a number from 1 to 65535") }
        self = .tcp(host: String(host), port: port)
    }

    /// The canonical text: `host:port`, `[v6]:port`, `/path` or `@name` (what dqlite nodes advertise).
    public var description: String {
        switch self {
        case .tcp(let host, let port): return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        case .unix(let path): return path
        case .abstract(let name): return "@" + name
        }
    }

    /// `text` safe to print in an error message: control characters escaped, anything past `limit`
    /// scalars cut and marked with `…`.
    public static func printable(_ text: String, limit: Int = 80) -> String {
        var out = ""
        for scalar in text.unicodeScalars.prefix(limit) {
            if scalar.value < 0x20 || scalar.value == 0x7F {
                out += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return text.unicodeScalars.count > limit ? out + "…" : out
    }
}
