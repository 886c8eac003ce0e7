import DqliteWire
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

// Adapted from Tests/DqliteTests/Support/FakeServer.swift (a scripted NIO server on the codec). Changed: it
// answers like a minimal dqlite leader by default (LEADER names itself, OPEN, CLUSTER, EXEC_SQL, QUERY_SQL,
// INTERRUPT, the client's behaviour probe), so a pooled DqliteClient works against it; a script overrides
// single requests; it can stream ROWS frames forever; it counts connections and binds any host (a canary on
// 0.0.0.0 proves that a redirect was never followed).

/// A fake dqlite server whose answers a test scripts: enough of a leader that a `DqliteClient` can use it,
/// and hostile where the script says so.
final class HostileServer: Sendable {
    /// The answer to one request.
    enum Reply: Sendable {
        /// Answer as a minimal well-behaved leader would.
        case normal
        /// Send these responses.
        case responses([Response])
        /// Send these bytes (anything at all).
        case bytes([UInt8])
        /// Send these bytes, then close the connection.
        case bytesThenClose([UInt8])
        /// Say nothing; keep the connection open.
        case silence
        /// Close the connection.
        case close
        /// Send ROWS frames ending in PART forever (also after INTERRUPT), as fast as the client reads.
        case endlessRows
        /// Send these responses one byte at a time, `interval` apart (a slowloris).
        case trickle([Response], interval: Duration)
    }

    typealias Script = @Sendable (_ request: Request, _ address: String) -> Reply

    let channel: any Channel
    let address: String
    private let counters: NIOLockedValueBox<Counters>

    struct Counters {
        var connections = 0
        var requests: [Request] = []
    }

    private init(channel: any Channel, address: String, counters: NIOLockedValueBox<Counters>) {
        self.channel = channel
        self.address = address
        self.counters = counters
    }

    /// Connections accepted so far.
    var connections: Int { counters.withLockedValue { $0.connections } }

    /// Every request received so far, in order.
    var received: [Request] { counters.withLockedValue { $0.requests } }

    /// Starts a server on `host` (a free port) whose answers come from `script` (on an event loop).
    static func start(host: String = "127.0.0.1", _ script: @escaping Script = { _, _ in .normal }) async throws
        -> HostileServer
    {
        let counters = NIOLockedValueBox(Counters())
        let advertised = NIOLockedValueBox("")
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                counters.withLockedValue { $0.connections += 1 }
                return child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(
                        Handler(script: script, counters: counters, address: advertised.withLockedValue { $0 }))
                }
            }
            .bind(host: host, port: 0).get()
        let port = channel.localAddress?.port ?? 0
        let address = "127.0.0.1:\(port)"
        advertised.withLockedValue { $0 = address }
        return HostileServer(channel: channel, address: address, counters: counters)
    }

    /// The port it listens on.
    var port: Int { channel.localAddress?.port ?? 0 }

    func stop() async { try? await channel.close() }

    /// How a minimal dqlite leader at `address` answers `request`.
    static func normalAnswer(_ request: Request, address: String) -> [Response] {
        switch request {
        case .leader: return [.server(id: 1, address: address)]
        case .client: return [.welcome(heartbeatTimeout: 15_000)]
        case .open: return [.db(id: 0)]
        case .cluster: return [.servers([NodeInfo(id: 1, address: address, role: 0)])]
        case .execSQL(let call) where call.sql == "SELECT 1":
            // The client's behaviour probe: a row-returning statement as EXEC is refused with SQLITE_ERROR.
            return [.failure(code: 1, message: "statement returns rows")]
        case .execSQL: return [.result(lastInsertID: 1, rowsAffected: 1)]
        case .querySQL: return [.rows(RowsFrame(columns: ["x"], rows: [[.integer(42)]], more: false))]
        case .interrupt, .finalize: return [.empty]
        case .prepare: return [.stmt(db: 0, id: 1, parameters: 0, tailOffset: nil)]
        default: return [.failure(code: 1, message: "not supported by the fake server")]
        }
    }

    static func bytes(_ responses: [Response]) -> [UInt8] {
        var out: [UInt8] = []
        for response in responses { try? response.encode(into: &out) }
        return out
    }

    /// One ROWS frame of 64 integer rows ending in PART.
    static let partFrame: [UInt8] = bytes([
        .rows(RowsFrame(columns: ["n"], rows: (0..<64).map { [.integer(Int64($0))] }, more: true))
    ])
}

private final class Handler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let script: HostileServer.Script
    let counters: NIOLockedValueBox<HostileServer.Counters>
    let address: String
    var decoder = FrameDecoder()
    var handshake = false
    var streaming = false

    init(script: @escaping HostileServer.Script, counters: NIOLockedValueBox<HostileServer.Counters>, address: String) {
        self.script = script
        self.counters = counters
        self.address = address
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        buffer.withUnsafeReadableBytes { decoder.append($0) }
        do {
            if !handshake {
                guard try decoder.nextHandshake() != nil else { return }
                handshake = true
            }
            while let frame = try decoder.nextFrame() {
                let request = try Request(decoding: frame)
                counters.withLockedValue { $0.requests.append(request) }
                // An endless stream ignores INTERRUPT (and everything else).
                if streaming { continue }
                switch script(request, address) {
                case .normal:
                    write(context, HostileServer.bytes(HostileServer.normalAnswer(request, address: address)))
                case .responses(let responses):
                    write(context, HostileServer.bytes(responses))
                case .bytes(let bytes):
                    write(context, bytes)
                case .bytesThenClose(let bytes):
                    let buffer = context.channel.allocator.buffer(bytes: bytes)
                    let channel = context.channel
                    context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in channel.close(promise: nil) }
                    return
                case .silence:
                    break
                case .close:
                    context.close(promise: nil)
                    return
                case .endlessRows:
                    streaming = true
                    writeNextPart(context)
                case .trickle(let responses, let interval):
                    trickle(context, HostileServer.bytes(responses)[...], interval: interval)
                }
            }
        } catch {
            context.close(promise: nil)
        }
    }

    private func write(_ context: ChannelHandlerContext, _ bytes: [UInt8]) {
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: bytes)), promise: nil)
    }

    /// Writes the first byte now and the rest one byte per `interval`, while the connection is open.
    private func trickle(_ context: ChannelHandlerContext, _ bytes: ArraySlice<UInt8>, interval: Duration) {
        guard context.channel.isActive, let first = bytes.first else { return }
        write(context, [first])
        let rest = bytes.dropFirst()
        guard !rest.isEmpty else { return }
        let loop = context.eventLoop.assumeIsolated()
        loop.scheduleTask(
            in: .nanoseconds(
                Int64(interval.components.seconds * 1_000_000_000 + interval.components.attoseconds / 1_000_000_000))
        ) {
            [self] in
            self.trickle(context, rest, interval: interval)
        }
    }

    /// Writes one PART frame, and the next when it has gone out (so the client's reading paces the stream).
    ///
    /// The next write is a new event-loop task, not a call from the completion callback: a write into a
    /// socket with room completes at once, and calling on from there recursed until the event loop's stack
    /// overflowed (SIGSEGV) when the client read fast enough.
    private func writeNextPart(_ context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        let buffer = context.channel.allocator.buffer(bytes: HostileServer.partFrame)
        let loop = context.eventLoop.assumeIsolated()
        context.writeAndFlush(wrapOutboundOut(buffer)).assumeIsolated().whenSuccess { [self] in
            loop.execute { self.writeNextPart(context) }
        }
    }
}
