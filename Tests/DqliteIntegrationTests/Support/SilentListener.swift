import DqliteLocalCluster
import NIOCore
import NIOPosix
import Synchronization

/// A plain TCP listener that accepts connections and never writes a byte (what a hung or half-dead node
/// looks like to a client): everything it receives is counted and dropped.
final class SilentListener: Sendable {
    private let channel: any Channel
    private let reservation: LoopbackPortReservation
    private let counters: Counters

    final class Counters: Sendable {
        let accepted = Atomic<Int>(0)
        let bytesReceived = Atomic<Int>(0)
        let children = Mutex<[any Channel]>([])
    }

    /// Drops what it reads.
    final class Sink: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let counters: Counters
        init(_ counters: Counters) { self.counters = counters }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            counters.bytesReceived.add(unwrapInboundIn(data).readableBytes, ordering: .relaxed)
        }
    }

    private init(channel: any Channel, reservation: LoopbackPortReservation, counters: Counters) {
        self.channel = channel
        self.reservation = reservation
        self.counters = counters
    }

    /// `127.0.0.1:<port>`.
    var address: String { reservation.address }
    /// Connections accepted so far.
    var accepted: Int { counters.accepted.load(ordering: .relaxed) }
    /// Bytes received so far (from every connection).
    var bytesReceived: Int { counters.bytesReceived.load(ordering: .relaxed) }

    /// Listens on a reserved loopback port.
    static func start() async throws -> SilentListener {
        guard let reservation = try await LoopbackPorts.reserve(count: 1).first else {
            throw TestFailure(description: "no port reserved")
        }
        let counters = Counters()
        do {
            let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { child in
                    counters.accepted.add(1, ordering: .relaxed)
                    counters.children.withLock { $0.append(child) }
                    return child.eventLoop.makeCompletedFuture {
                        try child.pipeline.syncOperations.addHandler(Sink(counters))
                    }
                }
                .bind(host: "127.0.0.1", port: Int(reservation.port)).get()
            return SilentListener(channel: channel, reservation: reservation, counters: counters)
        } catch {
            reservation.release()
            throw error
        }
    }

    /// Closes the listener and every accepted connection; releases the port.
    func stop() async {
        try? await channel.close()
        for child in counters.children.withLock({ $0 }) { try? await child.close() }
        reservation.release()
    }
}
