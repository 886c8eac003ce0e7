import DqliteWire
import Glibc
import Synchronization

/// A bare dqlite protocol connection over a plain POSIX socket, for tests and the harness: no client
/// library, just the ``DqliteWire`` codec (`Request.encode`, `FrameDecoder`, `Response(decoding:)`).
///
/// ```swift
/// let connection = try await RawWireConnection.connect(to: "127.0.0.1:9001")
/// defer { connection.close() }
/// let leader = try await connection.request(.leader)   // .server(id:address:)
/// ```
///
/// The async methods run the blocking socket calls on the harness thread pool; the `…Blocking`
/// variants run them on the calling thread. Requests on one connection are serialized. Every wait is
/// bounded by a timeout. Addresses: numeric IPv4 `a.b.c.d:port` or an abstract Unix socket `@name`
/// (libdqlite accepts those only from its own process).
public final class RawWireConnection: Sendable {
    /// The address connected to.
    public let address: String
    private let fd: Int32
    private let state: Mutex<State>
    /// Set by the first ``close()``; the descriptor is only closed after that, so `shutdown` never hits a
    /// reused descriptor number.
    private let closing = Mutex(false)

    private struct State {
        var decoder = FrameDecoder()
        var closed = false
    }

    private init(address: String, fd: Int32) {
        self.address = address
        self.fd = fd
        self.state = Mutex(State())
    }

    deinit {
        close()
    }

    /// Connects and sends the protocol handshake (version 1).
    public static func connect(to address: String, timeout: Duration = .seconds(5)) async throws -> RawWireConnection {
        try await BlockingWork.run { try connectBlocking(to: address, timeout: timeout) }
    }

    /// ``connect(to:timeout:)`` on the calling thread.
    public static func connectBlocking(to address: String, timeout: Duration = .seconds(5)) throws -> RawWireConnection
    {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        let fd = try openSocket(address)
        let connection = RawWireConnection(address: address, fd: fd)
        try connection.send([1, 0, 0, 0, 0, 0, 0, 0], deadline: deadline)
        return connection
    }

    /// Sends `request` and returns the response (the first frame, for ROWS).
    /// - Parameter clusterFormat: How to read a SERVERS response; `nil` picks format 1 for `.cluster(format: 1)`.
    public func request(
        _ request: Request, clusterFormat: ResponseContext.ClusterFormat? = nil, timeout: Duration = .seconds(10)
    ) async throws -> Response {
        try await BlockingWork.run {
            try self.requestBlocking(request, clusterFormat: clusterFormat, timeout: timeout)
        }
    }

    /// ``request(_:clusterFormat:timeout:)`` on the calling thread.
    public func requestBlocking(
        _ request: Request, clusterFormat: ResponseContext.ClusterFormat? = nil, timeout: Duration = .seconds(10)
    ) throws -> Response {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        let bytes: [UInt8]
        do {
            bytes = try request.encoded()
        } catch {
            throw LocalClusterError(.protocolViolation, "cannot encode \(request.type): \(error)")
        }
        var format = clusterFormat ?? .infer
        if clusterFormat == nil, case .cluster(let requested) = request {
            format = requested == 1 ? .format1 : .format0
        }
        let context = ResponseContext(clusterFormat: format)
        return try state.withLock { state in
            guard !state.closed else { throw LocalClusterError(.io, "connection to \(address) is closed") }
            try send(bytes, deadline: deadline)
            let frame = try receiveFrame(&state, deadline: deadline)
            do {
                return try Response(decoding: frame, context: context)
            } catch {
                throw LocalClusterError(.protocolViolation, "bad response from \(address): \(error)")
            }
        }
    }

    /// Sends raw bytes (for tests that build frames by hand).
    public func sendBlocking(_ bytes: [UInt8], timeout: Duration = .seconds(10)) throws {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        try state.withLock { state in
            guard !state.closed else { throw LocalClusterError(.io, "connection to \(address) is closed") }
            try send(bytes, deadline: deadline)
        }
    }

    /// Receives the next frame (for tests that read frames by hand).
    public func receiveFrameBlocking(timeout: Duration = .seconds(10)) throws -> Frame {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        return try state.withLock { state in
            guard !state.closed else { throw LocalClusterError(.io, "connection to \(address) is closed") }
            return try receiveFrame(&state, deadline: deadline)
        }
    }

    /// Closes the socket (idempotent). A request blocked in another thread fails once its wait ends.
    public func close() {
        let first = closing.withLock { closing in
            defer { closing = true }
            return !closing
        }
        guard first else { return }
        // Wakes a request blocked in poll on another thread; it then fails and releases the state lock.
        _ = shutdown(fd, Int32(SHUT_RDWR))
        state.withLock { state in
            state.closed = true
            _ = Glibc.close(fd)
        }
    }

    // MARK: - Socket plumbing

    private static func openSocket(_ address: String) throws -> Int32 {
        var storage = sockaddr_storage()
        let length: socklen_t
        let family: Int32
        if address.hasPrefix("@") {
            let name = Array(address.utf8.dropFirst())
            guard !name.isEmpty, name.count <= 106 else {
                throw LocalClusterError(.connect, "bad abstract socket address \(address)")
            }
            family = AF_UNIX
            length = withUnsafeMutablePointer(to: &storage) { pointer in
                pointer.withMemoryRebound(to: sockaddr_un.self, capacity: 1) { unix in
                    unix.pointee.sun_family = sa_family_t(AF_UNIX)
                    withUnsafeMutableBytes(of: &unix.pointee.sun_path) { path in
                        path[0] = 0
                        for (index, byte) in name.enumerated() { path[index &+ 1] = byte }
                    }
                    return socklen_t(MemoryLayout<sa_family_t>.size &+ 1 &+ name.count)
                }
            }
        } else {
            guard let colon = address.lastIndex(of: ":"), let port = UInt16(address[address.index(after: colon)...])
            else { throw LocalClusterError(.connect, "bad address \(address) (expected a.b.c.d:port)") }
            var ip = in_addr()
            guard inet_pton(AF_INET, String(address[..<colon]), &ip) == 1 else {
                throw LocalClusterError(.connect, "bad address \(address) (expected a numeric IPv4 host)")
            }
            family = AF_INET
            length = withUnsafeMutablePointer(to: &storage) { pointer in
                pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { inet in
                    inet.pointee.sin_family = sa_family_t(AF_INET)
                    inet.pointee.sin_port = port.bigEndian
                    inet.pointee.sin_addr = ip
                    return socklen_t(MemoryLayout<sockaddr_in>.size)
                }
            }
        }
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
        let fd = socket(family, type, 0)
        guard fd >= 0 else { throw systemError(.connect, "socket() for \(address)") }
        if family == AF_INET {
            var one: Int32 = 1
            _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        }
        let rc = withUnsafePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, length) }
        }
        if rc != 0 {
            let number = errno
            guard number == EINPROGRESS else {
                _ = Glibc.close(fd)
                throw LocalClusterError(.connect, "connect to \(address): \(String(cString: strerror(number)))")
            }
            // Loopback connects finish at once; wait briefly for anything else.
            do {
                try wait(
                    fd, for: Int16(POLLOUT), deadline: ContinuousClock.now.advanced(by: .seconds(5)),
                    what: "connect to \(address)")
            } catch {
                _ = Glibc.close(fd)
                throw error
            }
            var soError: Int32 = 0
            var size = socklen_t(MemoryLayout<Int32>.size)
            _ = getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &size)
            if soError != 0 {
                _ = Glibc.close(fd)
                throw LocalClusterError(.connect, "connect to \(address): \(String(cString: strerror(soError)))")
            }
        }
        return fd
    }

    private func send(_ bytes: [UInt8], deadline: ContinuousClock.Instant) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { raw in
                Glibc.send(fd, raw.baseAddress.map { $0 + offset }, raw.count &- offset, Int32(MSG_NOSIGNAL))
            }
            if sent > 0 {
                offset &+= sent
                continue
            }
            let number = errno
            if sent < 0 && (number == EAGAIN || number == EWOULDBLOCK || number == EINTR) {
                try Self.wait(fd, for: Int16(POLLOUT), deadline: deadline, what: "send to \(address)")
                continue
            }
            throw LocalClusterError(.io, "send to \(address): \(String(cString: strerror(number)))")
        }
    }

    private func receiveFrame(_ state: inout State, deadline: ContinuousClock.Instant) throws -> Frame {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            do {
                if let frame = try state.decoder.nextFrame() { return frame }
            } catch {
                throw LocalClusterError(.protocolViolation, "undecodable frame from \(address): \(error)")
            }
            let received = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if received > 0 {
                state.decoder.append(buffer.prefix(received))
                continue
            }
            if received == 0 { throw LocalClusterError(.io, "\(address) closed the connection") }
            let number = errno
            if number == EAGAIN || number == EWOULDBLOCK || number == EINTR {
                try Self.wait(fd, for: Int16(POLLIN), deadline: deadline, what: "response from \(address)")
                continue
            }
            throw LocalClusterError(.io, "receive from \(address): \(String(cString: strerror(number)))")
        }
    }

    private static func wait(_ fd: Int32, for events: Int16, deadline: ContinuousClock.Instant, what: String) throws {
        while true {
            let remaining = ContinuousClock.now.duration(to: deadline)
            guard remaining > .zero else { throw LocalClusterError(.timeout, "timed out waiting for \(what)") }
            let (seconds, attoseconds) = remaining.components
            let milliseconds = min(seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1, 60_000)
            var descriptor = pollfd(fd: fd, events: events, revents: 0)
            let rc = poll(&descriptor, 1, Int32(milliseconds))
            if rc > 0 { return }
            if rc < 0 && errno != EINTR { throw systemError(.io, "poll for \(what)") }
        }
    }

    private static func systemError(_ code: LocalClusterError.Code, _ what: String) -> LocalClusterError {
        let number = errno
        return LocalClusterError(code, "\(what): \(String(cString: strerror(number)))")
    }
}
