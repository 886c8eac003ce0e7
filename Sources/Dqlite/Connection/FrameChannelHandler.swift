import DqliteWire
import NIOCore
import NIOSSL

/// The connection's NIO handler: turns received bytes into frames and hands them out one at a time.
///
/// - Inbound bytes go through a ``FrameDecoder`` with the connection's limits; a decoding error fails the
///   connection (it is closed: the stream position can no longer be trusted).
/// - Frames are queued until the connection asks for one (``nextFrame(deadline:promise:)``) or for all that
///   are queued (``nextFrames(max:deadline:promise:)``, used by row streams: one event-loop hop per batch
///   rather than per frame). Reading from the socket pauses while ``maxQueuedFrames`` frames or
///   ``maxQueuedBytes`` bytes are queued (the handler holds back `read` events), so a large result occupies
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

    /// Frames queued before the handler stops asking the socket for more bytes.
    static let maxQueuedFrames = 32
    /// Bytes of queued frames before the handler stops asking the socket for more bytes.
    static let maxQueuedBytes = 256 * 1024
    /// Bytes received in one read cycle from which `TCP_QUICKACK` is re-armed (Linux).
    static let quickAckThreshold = 2048

    /// Who waits for frames: one frame (an answer) or a batch (a row stream).
    private enum Waiter {
        case one(EventLoopPromise<Frame>)
        case batch(EventLoopPromise<CircularBuffer<Frame>>, max: Int)

        func fail(_ error: any Error) {
            switch self {
            case .one(let promise): promise.fail(error)
            case .batch(let promise, _): promise.fail(error)
            }
        }
    }

    private let node: String
    private var decoder: FrameDecoder
    private var frames = CircularBuffer<Frame>(initialCapacity: 8)
    private var queuedBytes = 0
    private var bytesThisReadCycle = 0
    private var quickAckUnsupported = false
    private var waiter: Waiter?
    private var waiterTimeout: Scheduled<Void>?
    private var failure: DqliteError?
    private var pendingRead = false
    private var context: ChannelHandlerContext?

    init(node: String, limits: WireLimits) {
        self.node = node
        self.decoder = FrameDecoder(limits: limits)
    }

    // MARK: - Pipeline events

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) {
        fail(DqliteError(.connectionClosed, "the connection was closed", node: node))
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard failure == nil else { return }
        let buffer = unwrapInboundIn(data)
        bytesThisReadCycle += buffer.readableBytes
        buffer.withUnsafeReadableBytes { decoder.append($0) }
        do {
            while let frame = try decoder.nextFrame() {
                queuedBytes += frame.body.count
                frames.append(frame)
            }
        } catch {
            fail(
                DqliteError(
                    .protocolViolation, "undecodable bytes from the server: \(error)", node: node, underlying: error))
            context.close(promise: nil)
            return
        }
        // A single-frame waiter (an answer) is served at once; a batch waiter takes everything this read
        // cycle brought, in channelReadComplete.
        if case .one? = waiter { deliver() }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if bytesThisReadCycle >= FrameChannelHandler.quickAckThreshold { rearmQuickAck(context: context) }
        bytesThisReadCycle = 0
        deliver()
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        let partial = decoder.bufferedByteCount > 0 ? " in the middle of a frame" : ""
        fail(DqliteError(.connectionClosed, "the connection was closed by the server\(partial)", node: node))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if DqliteTLSConfiguration.isTLSError(error) {
            fail(DqliteError(.tls, "TLS failure: \(error)", node: node, underlying: error))
        } else {
            fail(DqliteError(.connectionClosed, "connection error: \(error)", node: node, underlying: error))
        }
        context.close(promise: nil)
    }

    func read(context: ChannelHandlerContext) {
        if queueIsFull {
            pendingRead = true
        } else {
            context.read()
        }
    }

    // MARK: - Used by the connection (on the event loop)

    /// The next frame, waiting at most until `deadline`.
    func nextFrame(deadline: NIODeadline, promise: EventLoopPromise<Frame>) {
        if let frame = popFrame() {
            resumeReadingIfNeeded()
            promise.succeed(frame)
            return
        }
        wait(.one(promise), deadline: deadline)
    }

    /// The frames queued now (at most `max`, at least one), waiting at most until `deadline` for the first.
    func nextFrames(max: Int, deadline: NIODeadline, promise: EventLoopPromise<CircularBuffer<Frame>>) {
        if !frames.isEmpty {
            let batch = popFrames(max: max)
            resumeReadingIfNeeded()
            promise.succeed(batch)
            return
        }
        wait(.batch(promise, max: max), deadline: deadline)
    }

    private func wait(_ newWaiter: Waiter, deadline: NIODeadline) {
        if let failure {
            newWaiter.fail(failure)
            return
        }
        guard waiter == nil, let context else {
            newWaiter.fail(DqliteError(.connectionBusy, "a frame is already awaited on this connection", node: node))
            return
        }
        waiter = newWaiter
        waiterTimeout = context.eventLoop.scheduleTask(deadline: deadline) { [weak self] in
            self?.timeOut()
        }
        resumeReadingIfNeeded()
    }

    /// Before a new request is written: fails and closes the connection if the server sent anything that
    /// was not asked for (a frame, or part of one, left over after the previous answer was complete).
    ///
    /// Handing such a frame to the next request would shift every later answer by one: a write could be
    /// told it succeeded with its predecessor's RESULT. Returns the error when the request must not be sent.
    func refuseUnsolicitedFrames() -> DqliteError? {
        if let failure { return failure }
        guard !frames.isEmpty || decoder.bufferedByteCount > 0 else { return nil }
        let what =
            frames.isEmpty
            ? "\(decoder.bufferedByteCount) bytes"
            : "\(frames.count) frame(s) (first of type \(frames[frames.startIndex].header.type))"
        failAndClose(
            DqliteError(
                .protocolViolation, "the server sent \(what) that no request asked for", node: node,
                outcome: .notApplied))
        return failure
    }

    /// The first failure the handler saw (a TLS error during the handshake, a reset, …), if any.
    var recordedFailure: DqliteError? { failure }

    /// Fails the current wait with `error` without closing the connection (a row stream that will drain).
    func abandonWait(_ error: DqliteError) {
        guard let waiting = waiter else { return }
        waiter = nil
        waiterTimeout?.cancel()
        waiterTimeout = nil
        waiting.fail(error)
    }

    /// Fails everything with `error` and closes the connection.
    func failAndClose(_ error: DqliteError) {
        fail(error)
        context?.close(promise: nil)
    }

    // MARK: - Internals

    private func timeOut() {
        guard waiter != nil else { return }
        failAndClose(DqliteError(.timeout, "no answer before the deadline", node: node))
    }

    private var queueIsFull: Bool {
        frames.count >= FrameChannelHandler.maxQueuedFrames || queuedBytes >= FrameChannelHandler.maxQueuedBytes
    }

    private func popFrame() -> Frame? {
        guard let frame = frames.popFirst() else { return nil }
        queuedBytes -= frame.body.count
        return frame
    }

    private func popFrames(max: Int) -> CircularBuffer<Frame> {
        var batch = CircularBuffer<Frame>(initialCapacity: Swift.min(Swift.max(max, 1), frames.count))
        while batch.count < Swift.max(max, 1), let frame = popFrame() { batch.append(frame) }
        return batch
    }

    private func deliver() {
        guard let waiting = waiter, !frames.isEmpty else { return }
        waiter = nil
        waiterTimeout?.cancel()
        waiterTimeout = nil
        switch waiting {
        case .one(let promise):
            guard let frame = popFrame() else { return }
            resumeReadingIfNeeded()
            promise.succeed(frame)
        case .batch(let promise, let max):
            let batch = popFrames(max: max)
            resumeReadingIfNeeded()
            promise.succeed(batch)
        }
    }

    private func resumeReadingIfNeeded() {
        guard pendingRead, !queueIsFull, let context else { return }
        pendingRead = false
        context.read()
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

    private func fail(_ error: DqliteError) {
        if failure == nil { failure = error }
        // Frames already queued are handed out before the failure.
        deliver()
        if let waiting = waiter {
            waiter = nil
            waiterTimeout?.cancel()
            waiterTimeout = nil
            waiting.fail(failure ?? error)
        }
    }
}
