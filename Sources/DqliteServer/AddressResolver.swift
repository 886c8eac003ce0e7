import Glibc

/// Resolves host names to numeric IPv4 addresses with `getaddrinfo`.
///
/// `getaddrinfo` blocks (it may read files and query DNS), so ``resolve(_:port:nodeID:)`` must only be
/// called on a thread that may block: ``BlockingCalls`` runs it on `NIOThreadPool.singleton`.
enum AddressResolver {
    /// Returns `"a.b.c.d:port"` for the first IPv4 address of `host`.
    static func resolve(_ host: String, port: UInt16, nodeID: UInt64) throws(DqliteNodeError) -> String {
        var hints = addrinfo()
        hints.ai_family = AF_INET
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, nil, &hints, &result)
        defer { if let result { freeaddrinfo(result) } }
        guard rc == 0 else {
            let systemError = rc == EAI_SYSTEM ? errno : nil
            let reason = String(cString: gai_strerror(rc))
            throw DqliteNodeError(
                .addressResolutionFailed, operation: .resolveAddress, systemErrorNumber: systemError,
                message: "cannot resolve \"\(host)\" to an IPv4 address: \(reason)", nodeID: nodeID)
        }
        var entry = result
        while let current = entry {
            if current.pointee.ai_family == AF_INET, let socketAddress = current.pointee.ai_addr {
                let ip = socketAddress.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
                if let text = numericText(ip) { return "\(text):\(port)" }
            }
            entry = current.pointee.ai_next
        }
        throw DqliteNodeError(
            .addressResolutionFailed, operation: .resolveAddress,
            message: "\"\(host)\" has no IPv4 address", nodeID: nodeID)
    }

    /// Dotted-quad text of an IPv4 address.
    static func numericText(_ address: in_addr) -> String? {
        var address = address
        var buffer = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN) &+ 1)
        let ok = buffer.withUnsafeMutableBufferPointer { out in
            inet_ntop(AF_INET, &address, out.baseAddress, socklen_t(INET_ADDRSTRLEN)) != nil
        }
        guard ok else { return nil }
        return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
