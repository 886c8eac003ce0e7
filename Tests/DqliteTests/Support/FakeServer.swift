import DqliteWire
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A scripted dqlite server on 127.0.0.1 for what a real server cannot produce: silence, half-open
/// connections, garbage, wrong answers, endless row streams. It decodes each request with the codec and lets
/// the test decide the reply.
final class FakeServer: Sendable {
    /// What to do with one request.
    enum Reply: Sendable {
        /// Send these bytes (one or more frames, or anything at all).
        case bytes([UInt8])
        /// Send these responses.
        case responses([Response])
        /// Say nothing and keep the connection open.
        case silence
        /// Close the connection.
        case close
    }

    let channel: any Channel
    let port: Int
    private let requests: NIOLockedValueBox<[Request]>

    /// Every request received so far (from every connection), in order.
    var received: [Request] { requests.withLockedValue { $0 } }

    private init(channel: any Channel, requests: NIOLockedValueBox<[Request]>) {
        self.channel = channel
        self.port = channel.localAddress?.port ?? 0
        self.requests = requests
    }

    /// The address to dial.
    var address: String { "127.0.0.1:\(port)" }

    /// Starts a server whose replies come from `script` (called on an event loop).
    static func start(_ script: @escaping @Sendable (Request) -> Reply) async throws -> FakeServer {
        let log = NIOLockedValueBox<[Request]>([])
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(ScriptHandler(script: script, log: log))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return FakeServer(channel: channel, requests: log)
    }

    func stop() async { try? await channel.close() }

    static func bytes(_ responses: [Response]) -> [UInt8] {
        var out: [UInt8] = []
        for response in responses { try? response.encode(into: &out) }
        return out
    }
}

private final class ScriptHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let script: @Sendable (Request) -> FakeServer.Reply
    let log: NIOLockedValueBox<[Request]>
    var decoder = FrameDecoder()
    var handshake = false

    init(script: @escaping @Sendable (Request) -> FakeServer.Reply, log: NIOLockedValueBox<[Request]>) {
        self.script = script
        self.log = log
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
                log.withLockedValue { $0.append(request) }
                switch script(request) {
                case .bytes(let bytes):
                    context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: bytes)), promise: nil)
                case .responses(let responses):
                    let bytes = FakeServer.bytes(responses)
                    context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: bytes)), promise: nil)
                case .silence:
                    break
                case .close:
                    context.close(promise: nil)
                    return
                }
            }
        } catch {
            context.close(promise: nil)
        }
    }
}
