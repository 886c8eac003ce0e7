import DqliteLocalCluster
import DqliteWire
import Foundation
import Glibc
import Synchronization

/// A TCP proxy between clients and one dqlite node that cuts a client's connection when a chosen request
/// passes through it — the "connection lost after the request was sent" failure, made deterministic.
///
/// - Client → node bytes are split into frames (after the 8-byte protocol handshake); every frame is checked
///   against the armed ``Rule``. A match fires once: ``Action/forwardThenCut`` hands the request to the node,
///   waits for its answer, drops it and then shuts both sockets down (the request has run by the time the
///   client sees the connection end); ``Action/cutWithoutForwarding`` shuts both sockets down at once without
///   forwarding it (the node never sees it).
/// - Node → client frames pass unchanged, except SERVER and SERVERS answers (LEADER, CLUSTER), in which the
///   node's address is replaced by the proxy's (same length: both are `127.0.0.1:` and a 5-digit port), so
///   leader discovery keeps the client on the proxy.
///
/// Plain POSIX sockets and one thread per direction: the test target does not link NIO.
final class FaultProxy: Sendable {
    /// What to do with the connection of a matching request.
    enum Action: Sendable, Equatable, CustomStringConvertible {
        /// Forward the request; drop its answer, then cut both sides.
        case forwardThenCut
        /// Cut both sides at once; the request never reaches the node.
        case cutWithoutForwarding
        /// Forward the request and this many frames of its answer (a row stream), then cut both sides.
        case cutAfterAnswerFrames(Int)

        var description: String {
            switch self {
            case .forwardThenCut: return "forwarded then cut"
            case .cutWithoutForwarding: return "cut without forwarding"
            case .cutAfterAnswerFrames(let count): return "cut after \(count) answer frames"
            }
        }
    }

    /// Which request fires (once), and what happens then.
    struct Rule: Sendable {
        var matches: @Sendable (Request) -> Bool
        var action: Action

        /// EXEC_SQL or QUERY_SQL whose SQL contains `text` (case-insensitive).
        static func sql(_ type: RequestType, containing text: String, _ action: Action) -> Rule {
            Rule(
                matches: { request in
                    switch (type, request) {
                    case (.execSQL, .execSQL(let call)), (.querySQL, .querySQL(let call)):
                        return call.sql.uppercased().contains(text.uppercased())
                    default:
                        return false
                    }
                }, action: action)
        }
    }

    /// The proxy's address (`127.0.0.1:port`): give it to clients instead of the node's.
    let address: String
    /// The node's address.
    let target: String

    private let reservation: LoopbackPortReservation
    private let targetPort: UInt16
    private let listener: Int32
    private let state = Mutex(State())

    private struct State {
        var rule: Rule?
        var fired: [String] = []
        var connections: [Connection] = []
        var accepted = 0
        var acceptorDone = false
    }

    /// One proxied connection: the client's socket and the node's, closed when both directions ended.
    private final class Connection: Sendable {
        let client: Int32
        let server: Int32
        /// Directions still running; the sockets are closed (and never touched again) when it reaches 0.
        private let running = Mutex(2)
        /// Set when a request was forwarded to be cut: how many more answer frames reach the client before
        /// both sides are cut.
        let answerFramesLeft = Mutex<Int?>(nil)

        init(client: Int32, server: Int32) {
            self.client = client
            self.server = server
        }

        /// Wakes both directions (reads return 0), unless the sockets are already closed.
        func shutDownBoth() {
            running.withLock { running in
                guard running > 0 else { return }
                _ = shutdown(client, Int32(SHUT_RDWR))
                _ = shutdown(server, Int32(SHUT_RDWR))
            }
        }

        /// One direction ended; the last one closes the sockets.
        func directionEnded() {
            running.withLock { running in
                running -= 1
                guard running == 0 else { return }
                close(client)
                close(server)
            }
        }
    }

    /// Starts a proxy on a fresh loopback port in front of `target` (`127.0.0.1:port`).
    init(target: String) async throws {
        guard let colon = target.lastIndex(of: ":"), let port = UInt16(target[target.index(after: colon)...]) else {
            throw FaultProxyError("bad target address \(target)")
        }
        let reservation = try await LoopbackPorts.reserve(count: 1)[0]
        guard reservation.address.utf8.count == target.utf8.count else {
            reservation.release()
            throw FaultProxyError("\(reservation.address) and \(target) differ in length: cannot rewrite addresses")
        }
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard listener >= 0 else {
            reservation.release()
            throw FaultProxyError("socket: \(String(cString: strerror(errno)))")
        }
        var reuse: Int32 = 1
        _ = setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        var address = Self.loopback(port: reservation.port)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(listener, 64) == 0 else {
            let reason = String(cString: strerror(errno))
            close(listener)
            reservation.release()
            throw FaultProxyError("cannot listen on \(reservation.address): \(reason)")
        }
        self.reservation = reservation
        self.address = reservation.address
        self.target = target
        self.targetPort = port
        self.listener = listener
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    /// Arms `rule`: the next matching request fires it (once).
    func arm(_ rule: Rule) {
        state.withLock { $0.rule = rule }
    }

    /// Disarms the rule if it has not fired.
    func disarm() {
        state.withLock { $0.rule = nil }
    }

    /// A description of every rule that fired, in order.
    var fired: [String] { state.withLock { $0.fired } }

    /// How many client connections the proxy accepted.
    var acceptedConnections: Int { state.withLock { $0.accepted } }

    /// Stops accepting, cuts every connection, waits for the listener to close, releases the port.
    func stop() async {
        state.withLock { state in
            if !state.acceptorDone { _ = shutdown(listener, Int32(SHUT_RDWR)) }
        }
        while !state.withLock({ $0.acceptorDone }) { try? await Task.sleep(for: .milliseconds(5)) }
        for connection in state.withLock({ $0.connections }) { connection.shutDownBoth() }
        reservation.release()
    }

    // MARK: - Threads

    private func acceptLoop() {
        defer {
            state.withLock { state in
                close(listener)
                state.acceptorDone = true
            }
        }
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                return
            }
            Self.noDelay(client)
            let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            var address = Self.loopback(port: targetPort)
            let connected =
                server >= 0
                && withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        connect(server, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                } == 0
            guard connected else {
                if server >= 0 { close(server) }
                close(client)
                continue
            }
            Self.noDelay(server)
            let connection = Connection(client: client, server: server)
            state.withLock {
                $0.connections.append(connection)
                $0.accepted += 1
            }
            Thread.detachNewThread { [self] in clientToServer(connection) }
            Thread.detachNewThread { [self] in serverToClient(connection) }
        }
    }

    /// Forwards the handshake, then frame by frame, firing the armed rule on a matching request.
    private func clientToServer(_ connection: Connection) {
        defer { connection.directionEnded() }
        var buffer: [UInt8] = []
        var handshakeLeft = 8
        while let chunk = Self.receive(connection.client) {
            buffer += chunk
            if handshakeLeft > 0 {
                let count = min(handshakeLeft, buffer.count)
                guard Self.sendAll(connection.server, buffer[..<count]) else { break }
                buffer.removeFirst(count)
                handshakeLeft -= count
            }
            while handshakeLeft == 0, let length = Self.frameLength(buffer) {
                let frame = Array(buffer[..<length])
                buffer.removeFirst(length)
                if let action = fire(on: frame) {
                    switch action {
                    case .forwardThenCut, .cutAfterAnswerFrames:
                        // The other direction drops the node's answer (after letting `count` frames through) and
                        // only then cuts the client: the request has run when the client sees its connection end.
                        let count: Int
                        if case .cutAfterAnswerFrames(let frames) = action { count = frames } else { count = 0 }
                        connection.answerFramesLeft.withLock { $0 = count }
                        if !Self.sendAll(connection.server, frame[...]) { connection.shutDownBoth() }
                    case .cutWithoutForwarding:
                        connection.shutDownBoth()
                    }
                    return
                }
                guard Self.sendAll(connection.server, frame[...]) else {
                    connection.shutDownBoth()
                    return
                }
            }
        }
        connection.shutDownBoth()
    }

    /// Forwards answers, rewriting the node's address in SERVER and SERVERS.
    private func serverToClient(_ connection: Connection) {
        defer { connection.directionEnded() }
        let from = Array(target.utf8)
        let to = Array(address.utf8)
        var buffer: [UInt8] = []
        while let chunk = Self.receive(connection.server) {
            buffer += chunk
            while let length = Self.frameLength(buffer) {
                var frame = Array(buffer[..<length])
                buffer.removeFirst(length)
                let cut = connection.answerFramesLeft.withLock { left -> Bool in
                    guard let remaining = left else { return false }
                    if remaining == 0 { return true }
                    left = remaining - 1
                    return false
                }
                if cut {
                    connection.shutDownBoth()
                    return
                }
                if frame[4] == ResponseType.server.rawValue || frame[4] == ResponseType.servers.rawValue {
                    Self.replace(from, with: to, in: &frame)
                }
                guard Self.sendAll(connection.client, frame[...]) else {
                    connection.shutDownBoth()
                    return
                }
            }
        }
        connection.shutDownBoth()
    }

    /// The armed rule's action if `frame` matches it (the rule is then spent).
    private func fire(on frame: [UInt8]) -> Action? {
        state.withLock { state -> Action? in
            guard let rule = state.rule, let parsed = try? Frame(parsing: frame),
                let request = try? Request(decoding: parsed), rule.matches(request)
            else { return nil }
            state.rule = nil
            state.fired.append("\(parsed.header.type): \(rule.action)")
            return rule.action
        }
    }

    // MARK: - Socket helpers

    private static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }

    private static func noDelay(_ fd: Int32) {
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// The next bytes, or nil at EOF or on an error.
    private static func receive(_ fd: Int32) -> [UInt8]? {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 { return Array(chunk[..<count]) }
            if count < 0 && errno == EINTR { continue }
            return nil
        }
    }

    private static func sendAll(_ fd: Int32, _ bytes: ArraySlice<UInt8>) -> Bool {
        var rest = bytes
        while !rest.isEmpty {
            let count = rest.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return false }
            rest = rest.dropFirst(count)
        }
        return true
    }

    /// The length of the whole first frame in `buffer` (header + body), if it is complete.
    private static func frameLength(_ buffer: [UInt8]) -> Int? {
        guard buffer.count >= 8 else { return nil }
        let words = Int(buffer[0]) | Int(buffer[1]) << 8 | Int(buffer[2]) << 16 | Int(buffer[3]) << 24
        let length = 8 + words * 8
        return buffer.count >= length ? length : nil
    }

    private static func replace(_ pattern: [UInt8], with replacement: [UInt8], in bytes: inout [UInt8]) {
        guard !pattern.isEmpty, pattern.count == replacement.count, bytes.count >= pattern.count else { return }
        var index = 0
        while index <= bytes.count - pattern.count {
            if bytes[index..<index + pattern.count].elementsEqual(pattern) {
                bytes.replaceSubrange(index..<index + pattern.count, with: replacement)
                index += pattern.count
            } else {
                index += 1
            }
        }
    }
}

struct FaultProxyError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Runs `body` with a ``FaultProxy`` in front of `target`; stopped afterwards, also when `body` throws.
func withFaultProxy<Result>(
    target: String, isolation: isolated (any Actor)? = #isolation, _ body: (FaultProxy) async throws -> Result
) async throws -> Result {
    let proxy = try await FaultProxy(target: target)
    do {
        let result = try await body(proxy)
        await proxy.stop()
        return result
    } catch {
        await proxy.stop()
        throw error
    }
}
