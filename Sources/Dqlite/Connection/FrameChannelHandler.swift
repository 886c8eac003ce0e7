import DqliteWire
import NIOCore
import NIOSSL

/// The connection's NIO handler: turns received bytes into frames and hands them out one at a time.
///
/// - Inbound bytes go through a ``FrameDecoder`` with the connection's limits; a decoding error fails the
///   connection (it is closed: the stream position can no longer be trusted).
/// - Frames are queued until the connection asks for one (``nextFrame(deadline:)``). Reading from the
///   socket pauses while a few frames are queued (the handler holds back `read` events), so a large result
///   occupies bounded memory however slowly it is consumed: the server is held back by TCP.
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
    static let maxQueuedFrames = 4

    private let node: String
    private var decoder: FrameDecoder
    private var frames = CircularBuffer<Frame>(initialCapacity: 4)
    private var waiter: EventLoopPromise<Frame>?
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
        buffer.withUnsafeReadableBytes { decoder.append($0) }
        do {
            while let frame = try decoder.nextFrame() { frames.append(frame) }
        } catch {
            fail(
                DqliteError(
                    .protocolViolation, "undecodable bytes from the server: \(error)", node: node, underlying: error))
            context.close(promise: nil)
            return
        }
        deliver()
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
        if frames.count >= FrameChannelHandler.maxQueuedFrames {
            pendingRead = true
        } else {
            context.read()
        }
    }

    // MARK: - Used by the connection (on the event loop)

    /// The next frame, waiting at most until `deadline`.
    func nextFrame(deadline: NIODeadline, promise: EventLoopPromise<Frame>) {
        if let frame = frames.popFirst() {
            resumeReadingIfNeeded()
            promise.succeed(frame)
            return
        }
        if let failure {
            promise.fail(failure)
            return
        }
        guard waiter == nil, let context else {
            promise.fail(DqliteError(.connectionBusy, "a frame is already awaited on this connection", node: node))
            return
        }
        waiter = promise
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
        guard let promise = waiter else { return }
        waiter = nil
        waiterTimeout?.cancel()
        waiterTimeout = nil
        promise.fail(error)
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

    private func deliver() {
        guard let promise = waiter, let frame = frames.popFirst() else { return }
        waiter = nil
        waiterTimeout?.cancel()
        waiterTimeout = nil
        resumeReadingIfNeeded()
        promise.succeed(frame)
    }

    private func resumeReadingIfNeeded() {
        guard pendingRead, frames.count < FrameChannelHandler.maxQueuedFrames, let context else { return }
        pendingRead = false
        context.read()
    }

    private func fail(_ error: DqliteError) {
        if failure == nil { failure = error }
        if let promise = waiter {
            waiter = nil
            waiterTimeout?.cancel()
            waiterTimeout = nil
            promise.fail(failure ?? error)
        }
    }
}
