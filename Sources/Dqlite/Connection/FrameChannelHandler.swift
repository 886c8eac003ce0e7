import DqliteWire
import NIOCore
import NIOSSL

/// The connection's NIO handler: turns received bytes into frames and carries out what the connection's
/// ``ConnectionStateMachine`` decides (which waiter gets which frames, when to read, when to close).
///
/// - Inbound bytes go through a ``FrameDecoder`` with the connection's limits; a decoding error fails the
///   connection (it is closed: the stream position can no longer be trusted).
/// - Frames are queued until the connection asks for one (``nextFrame(deadline:promise:)``) or for all that
///   are queued (``nextFrames(max:deadline:promise:)``, used by row streams: one event-loop hop per batch
///   rather than per frame). Reading from the socket pauses while ``ConnectionStateMachine/maxQueuedFrames`` frames or
///   ``ConnectionStateMachine/maxQueuedBytes`` bytes are queued (the handler holds back `read` events), so a large result occupies
///   bounded memory however slowly it is consumed: the server is held back by TCP.
/// - On Linux, after a read of a sizeable chunk (a row stream in progress), `TCP_QUICKACK` is re-armed so that
///   the kernel acknowledges at once. Servers that do not set `TCP_NODELAY` (1.11) otherwise hold each frame
///   behind Nagle until the client's delayed ACK (up to 40 ms).
/// - A wait has a deadline; when it passes the wait fails with a timeout and the connection is closed,
///   because an answer may still be on its way.
/// - Any failure (decode error, EOF, reset, TLS error) is sticky: frames already queued are still handed
///   out, then every wait fails with that error.
///
/// All methods run on the channel's event loop.
final class FrameChannelHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Bytes received in one read cycle from which `TCP_QUICKACK` is re-armed (Linux).
    static let quickAckThreshold = 2048

    /// The parked waiter's promise.
    private enum Waiter {
        case one(EventLoopPromise<Frame>)
        case batch(EventLoopPromise<CircularBuffer<Frame>>)

        func complete(_ delivery: ConnectionStateMachine.Delivery, node: String) {
            switch (self, delivery) {
            case (.one(let promise), .frame(let frame)): promise.succeed(frame)
            case (.batch(let promise), .frames(let frames)): promise.succeed(frames)
            case (.one(let promise), .failure(let error)): promise.fail(error)
            case (.batch(let promise), .failure(let error)): promise.fail(error)
            case (.one(let promise), .frames):
                promise.fail(DqliteError(.protocolViolation, "a batch delivered to a single-frame wait", node: node))
            case (.batch(let promise), .frame(let frame)):
                promise.succeed(CircularBuffer([frame]))
            }
        }
    }

    private let node: String
    private var decoder: FrameDecoder
    private var state: ConnectionStateMachine
    private var parked: Waiter?
    private var parkedTimeout: Scheduled<Void>?
    private var bytesThisReadCycle = 0
    private var quickAckUnsupported = false
    private var context: ChannelHandlerContext?

    init(node: String, limits: WireLimits) {
        self.node = node
        self.decoder = FrameDecoder(limits: limits)
        self.state = ConnectionStateMachine(node: node)
    }

    // MARK: - Pipeline events

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) {
        run(state.failed(DqliteError(.connectionClosed, "the connection was closed", node: node)))
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard state.failure == nil else { return }
        let buffer = unwrapInboundIn(data)
        bytesThisReadCycle += buffer.readableBytes
        buffer.withUnsafeReadableBytes { decoder.append($0) }
        do {
            while let frame = try decoder.nextFrame() { run(state.received(frame)) }
        } catch {
            run(state.decodeFailed(error))
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if bytesThisReadCycle >= FrameChannelHandler.quickAckThreshold { rearmQuickAck(context: context) }
        bytesThisReadCycle = 0
        run(state.readComplete())
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        let partial = decoder.bufferedByteCount > 0 ? " in the middle of a frame" : ""
        run(
            state.failed(
                DqliteError(.connectionClosed, "the connection was closed by the server\(partial)", node: node)))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if DqliteTLSConfiguration.isTLSError(error) {
            run(state.failAndClose(DqliteError(.tls, "TLS failure: \(error)", node: node, underlying: error)))
        } else {
            run(
                state.failAndClose(
                    DqliteError(.connectionClosed, "connection error: \(error)", node: node, underlying: error)))
        }
    }

    func read(context: ChannelHandlerContext) {
        if state.readRequested() { context.read() }
    }

    // MARK: - Used by the connection (on the event loop)

    /// The next frame, waiting at most until `deadline`.
    func nextFrame(deadline: NIODeadline, promise: EventLoopPromise<Frame>) {
        wait(.one(promise), .one, deadline: deadline)
    }

    /// The frames queued now (at most `max`, at least one), waiting at most until `deadline` for the first.
    func nextFrames(max: Int, deadline: NIODeadline, promise: EventLoopPromise<CircularBuffer<Frame>>) {
        wait(.batch(promise), .batch(max: max), deadline: deadline)
    }

    /// Before a new request is written: fails and closes the connection if the server sent anything that
    /// was not asked for (a frame, or part of one, left over after the previous answer was complete).
    /// Returns the error when the request must not be sent.
    func refuseUnsolicitedFrames() -> DqliteError? {
        let (refusal, action) = state.beforeWrite(bufferedBytes: decoder.bufferedByteCount)
        run(action)
        return refusal
    }

    /// The first failure the handler saw (a TLS error during the handshake, a reset, …), if any.
    var recordedFailure: DqliteError? { state.failure }

    /// Fails the current wait with `error` without closing the connection (a row stream that will drain).
    func abandonWait(_ error: DqliteError) { run(state.abandonWait(error)) }

    /// Fails everything with `error` and closes the connection.
    func failAndClose(_ error: DqliteError) { run(state.failAndClose(error)) }

    // MARK: - Internals

    private func wait(_ waiter: Waiter, _ kind: ConnectionStateMachine.Wait, deadline: NIODeadline) {
        let action = state.wait(kind)
        if let delivery = action.delivery {
            waiter.complete(delivery, node: node)
        } else if action.park {
            if let context {
                parked = waiter
                parkedTimeout = context.eventLoop.scheduleTask(deadline: deadline) { [weak self] in
                    guard let self else { return }
                    self.run(self.state.timedOut())
                }
            } else {
                _ = state.abandonWait(DqliteError(.connectionClosed, "the connection was closed", node: node))
                waiter.complete(
                    .failure(DqliteError(.connectionClosed, "the connection was closed", node: node)), node: node)
            }
        }
        if action.read { context?.read() }
        if action.close { context?.close(promise: nil) }
    }

    /// Carries out an action whose delivery (if any) is for the parked waiter.
    private func run(_ action: ConnectionStateMachine.Action) {
        if let delivery = action.delivery, let waiter = parked {
            parked = nil
            parkedTimeout?.cancel()
            parkedTimeout = nil
            waiter.complete(delivery, node: node)
        }
        if action.read { context?.read() }
        if action.close { context?.close(promise: nil) }
    }

    /// Asks the kernel to acknowledge received data at once (Linux; the kernel drops back to delayed ACKs
    /// by itself, so this is re-armed after each sizeable read). Ignored where unsupported.
    private func rearmQuickAck(context: ChannelHandlerContext) {
        #if os(Linux)
            guard !quickAckUnsupported, let options = context.channel.syncOptions else { return }
            // TCP_QUICKACK (12 in <netinet/tcp.h> on Linux).
            let quickAck = ChannelOptions.Types.SocketOption(level: .tcp, name: NIOBSDSocket.Option(rawValue: 12))
            do {
                try options.setOption(quickAck, value: 1)
            } catch {
                quickAckUnsupported = true
            }
        #endif
    }
}
