import DqliteLocalCluster
import DqliteWire
import Foundation
import Glibc
import Synchronization

/// A TCP proxy in front of one dqlite node, for tests: byte-level faults a real network produces, made
/// deterministic. Plain POSIX sockets and one thread per direction; frames are split after the 8-byte
/// protocol handshake.
///
/// Two ways to put it in front of a node:
/// - The node advertises the proxy's address (`--address`, listening on `--bind`): clients *and* raft peers
///   reach it through the proxy (``init(target:reservation:)``). Faults apply to client connections only (a
///   connection whose first request is CONNECT is raft traffic and is forwarded byte for byte).
/// - In front of a node that advertises its own address (``init(target:)``): the node's address in SERVER and
///   SERVERS answers (LEADER, CLUSTER) is replaced by the proxy's (same length: both are `127.0.0.1:` and a
///   5-digit port), so leader discovery keeps the client on the proxy.
///
/// - ``mode`` applies to every client connection while it is set: ``Mode/delay(_:)``,
///   ``Mode/trickle(bytes:pause:)``, ``Mode/halfOpen`` (nothing is forwarded either way and nothing is closed:
///   no FIN, no RST — the connection stays dead even after the mode is cleared) and ``Mode/blackhole``
///   (requests are forwarded, answers dropped; dead afterwards too).
/// - An armed ``Rule`` fires once, on the first client request it matches, with an ``Action`` on that
///   request and its answer.
package final class FaultProxy: Sendable {
    /// A fault applied to every client connection while set.
    package enum Mode: Sendable, Equatable, CustomStringConvertible {
        case pass
        /// Each forwarded chunk waits this long (both directions).
        case delay(Duration)
        /// Answers are sent `bytes` at a time with `pause` in between.
        case trickle(bytes: Int, pause: Duration)
        /// Nothing is forwarded and nothing is closed (the peer vanished): existing and new connections.
        case halfOpen
        /// Requests are forwarded, answers are dropped; the connections are then dead.
        case blackhole

        package var description: String {
            switch self {
            case .pass: return "pass"
            case .delay(let delay): return "delay \(delay)"
            case .trickle(let bytes, let pause): return "trickle \(bytes) B / \(pause)"
            case .halfOpen: return "half-open"
            case .blackhole: return "blackhole"
            }
        }
    }

    /// How an answer frame is damaged.
    package enum Corruption: Sendable, Equatable, CustomStringConvertible {
        /// The header's type byte becomes 0xEE (no such message).
        case headerType
        /// The header announces 0xFFFF_FFFF words (32 GiB).
        case hugeLength
        /// In a ROWS frame, the first value-type nibble becomes 0xF (no such type).
        case rowTypeNibble
        /// The last 8 bytes of the body become 0xAB (a ROWS frame then has no end marker).
        case trailingGarbage

        package var description: String {
            switch self {
            case .headerType: return "header type"
            case .hugeLength: return "huge length"
            case .rowTypeNibble: return "row type nibble"
            case .trailingGarbage: return "trailing garbage"
            }
        }
    }

    /// What happens to the request a rule matched, and to its answer.
    package enum Action: Sendable, CustomStringConvertible {
        /// Forward the request, then call `callback` (on the proxy's thread), e.g. to kill the node. The answer,
        /// should one still come, is dropped: the client learns nothing but that the connection died.
        case forwardThen(@Sendable () -> Void)
        /// Forward the request; drop its answer and everything after (the connection stays open, silent).
        case blackholeAnswer
        /// Forward the request; send only the first `bytes` bytes of its answer, then close (FIN).
        case truncateAnswer(bytes: Int)
        /// Forward the request; drop its answer and reset the client's connection (RST).
        case resetAnswer
        /// Forward the request and a damaged answer.
        case corruptAnswer(Corruption)
        /// Close both sides without forwarding the request (it never reaches the node).
        case cutWithoutForwarding
        /// Forward the request and this many frames of its answer (a row stream), then close both sides: the
        /// request has run by the time the client sees its connection end.
        case cutAfterAnswerFrames(Int)
        /// Forward the request, drop its answer, then close both sides (``cutAfterAnswerFrames(_:)`` with 0).
        package static var forwardThenCut: Action { .cutAfterAnswerFrames(0) }

        package var description: String {
            switch self {
            case .forwardThen: return "forward then callback"
            case .blackholeAnswer: return "blackhole answer"
            case .truncateAnswer(let bytes): return "truncate answer after \(bytes) B"
            case .resetAnswer: return "reset instead of answer"
            case .corruptAnswer(let corruption): return "corrupt answer (\(corruption))"
            case .cutWithoutForwarding: return "cut without forwarding"
            case .cutAfterAnswerFrames(0): return "forwarded then cut"
            case .cutAfterAnswerFrames(let count): return "cut after \(count) answer frames"
            }
        }
    }

    /// A one-shot rule: fires on the first client request `matches` accepts (`connection` identifies the
    /// proxied connection, so a rule can follow one transaction).
    package struct Rule: Sendable {
        package var matches: @Sendable (_ connection: Int, _ request: Request) -> Bool
        package var action: Action

        package init(matches: @escaping @Sendable (_ connection: Int, _ request: Request) -> Bool, action: Action) {
            self.matches = matches
            self.action = action
        }

        /// EXEC_SQL or QUERY_SQL whose SQL contains `text`.
        package static func sql(containing text: String, _ action: Action) -> Rule {
            Rule(matches: { _, request in FaultProxy.sql(of: request)?.contains(text) == true }, action: action)
        }

        /// A request of `type` (EXEC_SQL or QUERY_SQL) whose SQL contains `text`, ignoring case.
        package static func sql(_ type: RequestType, containing text: String, _ action: Action) -> Rule {
            Rule(
                matches: { _, request in
                    guard request.type == type, let sql = FaultProxy.sql(of: request) else { return false }
                    return sql.uppercased().contains(text.uppercased())
                }, action: action)
        }
    }

    /// The SQL of EXEC_SQL and QUERY_SQL requests.
    package static func sql(of request: Request) -> String? {
        switch request {
        case .execSQL(let call), .querySQL(let call): return call.sql
        default: return nil
        }
    }

    /// The address clients and peers dial (`127.0.0.1:port`).
    package let address: String
    /// The node's real (bind) address.
    package let target: String

    private let reservation: LoopbackPortReservation
    private let targetPort: UInt16
    /// The bytes of ``target`` and ``address`` when SERVER/SERVERS answers are rewritten.
    private let rewrite: (from: [UInt8], to: [UInt8])?
    private let listener: Int32
    private let state = Mutex(State())

    private struct State {
        var mode = Mode.pass
        var rule: Rule?
        var observer: (@Sendable (Request) -> Void)?
        var fired: [String] = []
        var dropped: [String] = []
        var links: [Link] = []
        var nextLink = 0
        var clientConnections = 0
        var acceptorDone = false
        var stopping = false
    }

    /// What a connection carries.
    private enum Kind { case pending, client, peer }

    /// What to do to the next answer frame of a connection.
    private enum AnswerAction {
        case drop
        case truncate(Int)
        case reset
        case corrupt(Corruption)
        /// Let this many more frames through, then close both sides.
        case cutAfter(Int)
    }

    /// One proxied connection.
    private final class Link: Sendable {
        let id: Int
        let client: Int32
        let server: Int32
        let state = Mutex(LinkState())

        struct LinkState {
            var kind = Kind.pending
            /// Dead: nothing is forwarded any more, nothing is closed (until the client closes or the proxy stops).
            var silent = false
            var answerAction: AnswerAction?
            var closing = false
            var running = 2
            var resetOnClose = false
        }

        init(id: Int, client: Int32, server: Int32) {
            self.id = id
            self.client = client
            self.server = server
        }

        var isClosing: Bool { state.withLock { $0.closing } }

        /// Both directions stop at their next poll; the last one closes the sockets (FIN, or RST if asked).
        func close(reset: Bool = false) {
            state.withLock {
                $0.closing = true
                if reset { $0.resetOnClose = true }
            }
        }

        /// One direction ended; the last one closes the sockets.
        func directionEnded() {
            let (last, reset) = state.withLock { state -> (Bool, Bool) in
                state.closing = true
                state.running -= 1
                return (state.running == 0, state.resetOnClose)
            }
            guard last else { return }
            if reset {
                var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
                _ = setsockopt(client, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
            }
            Glibc.close(client)
            Glibc.close(server)
        }
    }

    /// Starts a proxy on a reserved loopback port in front of `target` (`127.0.0.1:port`).
    package convenience init(target: String, reservation: LoopbackPortReservation) throws {
        try self.init(target: target, reservation: reservation, rewriteAddresses: false)
    }

    /// Starts a proxy on a fresh loopback port in front of `target`, a node that advertises its own address:
    /// SERVER and SERVERS answers name the proxy instead. The port is released by ``stop()``.
    package convenience init(target: String) async throws {
        let reservation = try await LoopbackPorts.reserve(count: 1)[0]
        do {
            try self.init(target: target, reservation: reservation, rewriteAddresses: true)
        } catch {
            reservation.release()
            throw error
        }
    }

    private init(target: String, reservation: LoopbackPortReservation, rewriteAddresses: Bool) throws {
        guard let colon = target.lastIndex(of: ":"), let port = UInt16(target[target.index(after: colon)...]) else {
            throw FaultProxyError("bad proxy target \(target)")
        }
        if rewriteAddresses {
            guard reservation.address.utf8.count == target.utf8.count else {
                throw FaultProxyError("\(reservation.address) and \(target) differ in length: cannot rewrite addresses")
            }
            self.rewrite = (Array(target.utf8), Array(reservation.address.utf8))
        } else {
            self.rewrite = nil
        }
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard listener >= 0 else { throw FaultProxyError("socket: \(String(cString: strerror(errno)))") }
        var reuse: Int32 = 1
        _ = setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        var address = Self.loopback(port: reservation.port)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(listener, 128) == 0 else {
            let reason = String(cString: strerror(errno))
            Glibc.close(listener)
            throw FaultProxyError("cannot listen on \(reservation.address): \(reason)")
        }
        self.reservation = reservation
        self.address = reservation.address
        self.target = target
        self.targetPort = port
        self.listener = listener
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    /// The current mode.
    package var mode: Mode {
        get { state.withLock { $0.mode } }
        set { state.withLock { $0.mode = newValue } }
    }

    /// Arms `rule` (replacing any rule that has not fired).
    package func arm(_ rule: Rule) { state.withLock { $0.rule = rule } }

    /// Disarms the rule; true if it had not fired.
    @discardableResult
    package func disarm() -> Bool {
        state.withLock { state in
            defer { state.rule = nil }
            return state.rule != nil
        }
    }

    /// Calls `observer` with every client request that passes (nil: stop).
    package func observe(_ observer: (@Sendable (Request) -> Void)?) { state.withLock { $0.observer = observer } }

    /// The answers dropped by ``Action/blackholeAnswer``, in order: the response type's name, and the code of a
    /// FAILURE (`FAILURE 5`).
    package var droppedAnswers: [String] { state.withLock { $0.dropped } }

    /// Client connections seen so far (raft peer connections are not counted).
    package var clientConnections: Int { state.withLock { $0.clientConnections } }

    /// Every rule that fired, in order.
    package var fired: [String] { state.withLock { $0.fired } }

    /// Client connections that are dead (half-open or blackholed) and still held open.
    package var silentConnections: Int {
        state.withLock { $0.links.filter { $0.state.withLock { $0.silent && !$0.closing } }.count }
    }

    /// Closes every client connection (FIN) — e.g. to release connections left silent by a fault.
    package func closeClientConnections() {
        for link in state.withLock({ $0.links }) where link.state.withLock({ $0.kind != .peer }) { link.close() }
    }

    /// Stops accepting, closes every connection, waits for the listener, releases the port.
    package func stop() async {
        state.withLock { $0.stopping = true }
        _ = shutdown(listener, Int32(SHUT_RDWR))
        let deadline = ContinuousClock.now + .seconds(5)
        while !state.withLock({ $0.acceptorDone }) && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
        for link in state.withLock({ $0.links }) { link.close() }
        reservation.release()
    }

    // MARK: - Threads

    private func acceptLoop() {
        defer {
            state.withLock { state in
                Glibc.close(listener)
                state.acceptorDone = true
            }
        }
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                return
            }
            if state.withLock({ $0.stopping }) {
                Glibc.close(client)
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
                // The node is down: refuse the client the way a dead port would (RST).
                if server >= 0 { Glibc.close(server) }
                var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
                _ = setsockopt(client, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
                Glibc.close(client)
                continue
            }
            Self.noDelay(server)
            let link = state.withLock { state -> Link in
                let link = Link(id: state.nextLink, client: client, server: server)
                state.nextLink += 1
                state.links.removeAll { $0.state.withLock { $0.running == 0 } }
                state.links.append(link)
                return link
            }
            Thread.detachNewThread { [self] in clientToServer(link) }
            Thread.detachNewThread { [self] in serverToClient(link) }
        }
    }

    /// The mode, and whether this link is (now) silent.
    private func currentMode(_ link: Link) -> (Mode, silent: Bool) {
        let mode = self.mode
        let silent = link.state.withLock { state -> Bool in
            if state.kind != .peer && (mode == .halfOpen || mode == .blackhole) && !state.silent {
                // A half-open connection goes silent at once; a blackholed one when an answer would pass.
                if mode == .halfOpen { state.silent = true }
            }
            return state.silent
        }
        return (mode, silent)
    }

    /// Client → node: the handshake and the first frame decide the kind; client frames are checked against
    /// the rule; peer traffic is forwarded raw.
    private func clientToServer(_ link: Link) {
        defer { link.directionEnded() }
        var buffer: [UInt8] = []
        var forwardedHandshake = false
        while let chunk = receive(link, link.client) {
            let kind = link.state.withLock { $0.kind }
            if kind == .peer {
                guard Self.sendAll(link.server, chunk[...]) else { return }
                continue
            }
            buffer += chunk
            if kind == .pending {
                // Wait for the handshake (8 bytes) and the first frame's header.
                guard buffer.count >= 16 else { continue }
                let isPeer = buffer[12] == RequestType.connect.rawValue
                link.state.withLock { $0.kind = isPeer ? .peer : .client }
                if !isPeer { state.withLock { $0.clientConnections += 1 } }
                if isPeer {
                    guard Self.sendAll(link.server, buffer[...]) else { return }
                    buffer = []
                    continue
                }
            }
            let (_, silent) = currentMode(link)
            if silent {
                buffer = []
                continue
            }
            if !forwardedHandshake {
                guard Self.sendAll(link.server, buffer[..<8]) else { return }
                buffer.removeFirst(8)
                forwardedHandshake = true
            }
            while let length = Self.frameLength(buffer) {
                let frame = Array(buffer[..<length])
                buffer.removeFirst(length)
                let (mode, silent) = currentMode(link)
                if silent { break }
                if case .delay(let delay) = mode { Self.sleep(delay) }
                guard let action = fire(on: frame, link: link) else {
                    guard Self.sendAll(link.server, frame[...]) else { return }
                    continue
                }
                switch action {
                case .cutWithoutForwarding:
                    link.close()
                    return
                case .forwardThen(let callback):
                    link.state.withLock { $0.answerAction = .drop }
                    guard Self.sendAll(link.server, frame[...]) else { return }
                    callback()
                case .blackholeAnswer:
                    link.state.withLock { $0.answerAction = .drop }
                    guard Self.sendAll(link.server, frame[...]) else { return }
                case .truncateAnswer(let bytes):
                    link.state.withLock { $0.answerAction = .truncate(bytes) }
                    guard Self.sendAll(link.server, frame[...]) else { return }
                case .resetAnswer:
                    link.state.withLock { $0.answerAction = .reset }
                    guard Self.sendAll(link.server, frame[...]) else { return }
                case .corruptAnswer(let corruption):
                    link.state.withLock { $0.answerAction = .corrupt(corruption) }
                    guard Self.sendAll(link.server, frame[...]) else { return }
                case .cutAfterAnswerFrames(let count):
                    link.state.withLock { $0.answerAction = .cutAfter(max(0, count)) }
                    guard Self.sendAll(link.server, frame[...]) else { return }
                }
            }
        }
    }

    /// Node → client: frames of client connections get the mode and the pending answer action; peer traffic
    /// is forwarded raw.
    private func serverToClient(_ link: Link) {
        defer { link.directionEnded() }
        var buffer: [UInt8] = []
        while let chunk = receive(link, link.server) {
            let kind = link.state.withLock { $0.kind }
            if kind == .peer {
                guard Self.sendAll(link.client, chunk[...]) else { return }
                continue
            }
            buffer += chunk
            while let length = Self.frameLength(buffer) {
                var frame = Array(buffer[..<length])
                buffer.removeFirst(length)
                let (mode, wasSilent) = currentMode(link)
                var silent = wasSilent
                if mode == .blackhole {
                    link.state.withLock { $0.silent = true }
                    silent = true
                }
                if silent { continue }
                switch link.state.withLock({ state -> AnswerAction? in
                    let action = state.answerAction
                    if case .cutAfter(let left) = action, left > 0 {
                        state.answerAction = .cutAfter(left - 1)
                    } else {
                        state.answerAction = nil
                    }
                    return action
                }) {
                case .drop?:
                    link.state.withLock { $0.silent = true }
                    let code = frame.count >= 16 ? Int(frame[8]) | Int(frame[9]) << 8 : 0
                    let name = ResponseType(rawValue: frame[4])?.name ?? "type \(frame[4])"
                    let description = frame[4] == ResponseType.failure.rawValue ? "\(name) \(code)" : name
                    state.withLock { $0.dropped.append(description) }
                    continue
                case .truncate(let bytes)?:
                    _ = Self.sendAll(link.client, frame.prefix(max(0, min(bytes, frame.count - 1))))
                    link.close()
                    return
                case .reset?:
                    link.close(reset: true)
                    return
                case .corrupt(let corruption)?:
                    Self.corrupt(&frame, corruption)
                case .cutAfter(0)?:
                    link.close()
                    return
                case .cutAfter?, nil:
                    break
                }
                if let rewrite,
                    frame[4] == ResponseType.server.rawValue || frame[4] == ResponseType.servers.rawValue
                {
                    Self.replace(rewrite.from, with: rewrite.to, in: &frame)
                }
                switch mode {
                case .delay(let delay):
                    Self.sleep(delay)
                    guard Self.sendAll(link.client, frame[...]) else { return }
                case .trickle(let bytes, let pause):
                    var rest = frame[...]
                    while !rest.isEmpty {
                        guard Self.sendAll(link.client, rest.prefix(max(1, bytes))), !link.isClosing else { return }
                        rest = rest.dropFirst(max(1, bytes))
                        Self.sleep(pause)
                    }
                default:
                    guard Self.sendAll(link.client, frame[...]) else { return }
                }
            }
        }
    }

    /// The rule's action if `frame` is a request it matches (the rule is then spent).
    private func fire(on frame: [UInt8], link: Link) -> Action? {
        let (rule, observer) = state.withLock { ($0.rule, $0.observer) }
        guard rule != nil || observer != nil, let parsed = try? Frame(parsing: frame),
            let request = try? Request(decoding: parsed)
        else { return nil }
        observer?(request)
        guard let rule, rule.matches(link.id, request) else { return nil }
        return state.withLock { state -> Action? in
            guard state.rule != nil else { return nil }
            state.rule = nil
            state.fired.append("\(request.type.name): \(rule.action)")
            return rule.action
        }
    }

    package static func corrupt(_ frame: inout [UInt8], _ corruption: Corruption) {
        switch corruption {
        case .headerType:
            frame[4] = 0xEE
        case .hugeLength:
            frame[0] = 0xFF
            frame[1] = 0xFF
            frame[2] = 0xFF
            frame[3] = 0xFF
        case .rowTypeNibble:
            // ROWS body: column count (8), column names (padded), then the header nibbles of the first row.
            guard frame.count > 16, frame[4] == ResponseType.rows.rawValue else {
                frame[4] = 0xEE
                return
            }
            let columns = Int(frame[8]) | Int(frame[9]) << 8
            var offset = 16
            for _ in 0..<columns {
                while offset < frame.count && frame[offset] != 0 { offset += 1 }
                offset = (offset + 8) & ~7
            }
            if offset < frame.count { frame[offset] = 0xFF } else { frame[4] = 0xEE }
        case .trailingGarbage:
            for index in max(8, frame.count - 8)..<frame.count { frame[index] = 0xAB }
        }
    }

    // MARK: - Socket helpers

    /// The next bytes from `fd`, or nil at EOF, on an error, or when the link is closing. Polls so that a
    /// closing link ends promptly.
    private func receive(_ link: Link, _ fd: Int32) -> [UInt8]? {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            if link.isClosing { return nil }
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, 50)
            if ready < 0 && errno != EINTR { return nil }
            if ready <= 0 { continue }
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 { return Array(chunk[..<count]) }
            if count < 0 && (errno == EINTR || errno == EAGAIN) { continue }
            return nil
        }
    }

    private static func sleep(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let microseconds = max(0, Int(seconds) * 1_000_000 + Int(attoseconds / 1_000_000_000_000))
        if microseconds > 0 { usleep(UInt32(clamping: microseconds)) }
    }

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

/// The proxy could not be set up.
package struct FaultProxyError: Error, CustomStringConvertible {
    package var description: String
    package init(_ description: String) { self.description = description }
}

/// Runs `body` with a ``FaultProxy`` in front of `target` (rewriting its address in SERVER and SERVERS
/// answers); the proxy is stopped afterwards, also when `body` throws.
package func withFaultProxy<Result>(
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
