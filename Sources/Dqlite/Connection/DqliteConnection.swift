import DqliteWire
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// One connection to one dqlite node: handshake, then one request at a time.
///
/// Every call has a deadline (the caller's `timeout`, else ``Configuration/defaultCallTimeout``) and honours
/// Swift task cancellation. A call that fails in a way that leaves the byte stream in doubt — a decoding
/// error, an unexpected answer, a timeout or cancellation with bytes in flight, the connection dropping, or a
/// connection-fatal FAILURE (not leader, leadership lost, database closed by the server) — *poisons* the
/// connection: it is closed and every later call fails with ``DqliteError/Code/connectionPoisoned``.
///
/// ```swift
/// try await DqliteConnection.withConnection(to: DqliteNodeAddress("127.0.0.1:9001")) { connection in
///     let leader = try await connection.call(.leader)
/// }   // closed here, also when the body throws
/// ```
///
/// Most applications use `DqliteClient` (a pool of leader connections) instead of this type.
public final class DqliteConnection: Sendable {
    /// The node this connection talks to.
    public let address: DqliteNodeAddress
    /// The configuration it was made with.
    public let configuration: Configuration
    let channel: any Channel
    let handler: NIOLoopBound<FrameChannelHandler>
    let logger: Logger
    /// Runs tasks on this connection's event loop (see ``DqliteClient/Configuration/runsSessionsOnEventLoop``).
    let taskExecutor: EventLoopTaskExecutor
    private let state: NIOLockedValueBox<State>

    struct State {
        var busy = false
        var poisonedBy: DqliteError?
        var openedDatabase: String?
        /// The row stream whose frames are still arriving, if any (see ``DqliteRowReader``).
        var activeStream: UInt64?
        var nextStreamID: UInt64 = 1
    }

    /// A logger that discards everything (the default when the caller passes none).
    static let silentLogger = Logger(label: "dqlite.silent", factory: { _ in SwiftLogNoOpLogHandler() })

    init(
        address: DqliteNodeAddress, configuration: Configuration, channel: any Channel,
        handler: NIOLoopBound<FrameChannelHandler>, logger: Logger
    ) {
        self.address = address
        self.configuration = configuration
        self.channel = channel
        self.handler = handler
        self.logger = logger
        self.taskExecutor = EventLoopTaskExecutor(loop: channel.eventLoop)
        self.state = NIOLockedValueBox(State())
    }

    /// True until the connection has been closed or poisoned.
    public var isUsable: Bool { state.withLockedValue { $0.poisonedBy == nil } && channel.isActive }

    /// The error that made the connection unusable, if any.
    public var poisonedBy: DqliteError? { state.withLockedValue { $0.poisonedBy } }

    /// The database opened on this connection, if OPEN succeeded.
    public var openedDatabase: String? { state.withLockedValue { $0.openedDatabase } }

    /// Closes the connection. Safe to call more than once.
    public func close() async {
        markPoisoned(
            DqliteError(.connectionClosed, "the connection was closed by the client", node: address.description))
        try? await channel.close()
    }

    // MARK: - Exclusive use

    /// Runs `body` as the connection's only operation; fails at once if another is running or the
    /// connection is poisoned. A row stream that was left unfinished is interrupted and drained first.
    func exclusively<Result>(_ body: () async throws -> Result) async throws -> Result {
        try await exclusivelyKeepingStream {
            try await drainAbandonedStream()
            return try await body()
        }
    }

    /// Like ``exclusively(_:)`` but leaves an active row stream alone (the stream's own reads use it).
    func exclusivelyKeepingStream<Result>(_ body: () async throws -> Result) async throws -> Result {
        try state.withLockedValue { state in
            if let poison = state.poisonedBy {
                throw DqliteError(
                    .connectionPoisoned, "the connection is unusable: \(poison.message)", node: address.description,
                    underlying: poison)
            }
            guard !state.busy else {
                throw DqliteError(
                    .connectionBusy, "another operation is in progress on this connection (one request at a time)",
                    node: address.description)
            }
            state.busy = true
        }
        defer { state.withLockedValue { $0.busy = false } }
        return try await body()
    }

    /// Marks the connection unusable (first reason wins).
    func markPoisoned(_ error: DqliteError) {
        state.withLockedValue { state in
            if state.poisonedBy == nil { state.poisonedBy = error }
        }
    }

    /// Marks the connection unusable and closes it.
    func poison(_ error: DqliteError) {
        markPoisoned(error)
        logger.debug("dqlite connection poisoned", metadata: ["node": "\(address)", "reason": "\(error)"])
        let handler = self.handler
        channel.eventLoop.execute { handler.value.failAndClose(error) }
    }

    /// Interrupts and drains a row stream whose reader stopped before the end (it was dropped, or its task
    /// cancelled), so the connection can carry the next request.
    func drainAbandonedStream() async throws {
        let abandoned = state.withLockedValue { state -> Bool in
            guard state.activeStream != nil else { return false }
            state.activeStream = nil
            return true
        }
        guard abandoned else { return }
        await interruptAndDrain()
        if let poison = poisonedBy {
            throw DqliteError(
                .connectionPoisoned, "the connection is unusable: \(poison.message)", node: address.description,
                underlying: poison)
        }
    }

    /// Registers a new row stream as the active one.
    func beginStream() -> UInt64 {
        state.withLockedValue { state in
            let id = state.nextStreamID
            state.nextStreamID &+= 1
            state.activeStream = id
            return id
        }
    }

    /// True while `id` is the active stream.
    func isActiveStream(_ id: UInt64) -> Bool { state.withLockedValue { $0.activeStream == id } }

    /// Marks stream `id` finished (its last frame was read).
    func endStream(_ id: UInt64) {
        state.withLockedValue { state in
            if state.activeStream == id { state.activeStream = nil }
        }
    }

    func recordOpened(_ database: String) {
        state.withLockedValue { $0.openedDatabase = database }
    }

    var databaseOpened: Bool { state.withLockedValue { $0.openedDatabase != nil } }

    // MARK: - Frames

    /// The deadline for an operation that starts now.
    func deadline(_ timeout: Duration?) -> NIODeadline {
        .now() + (timeout ?? configuration.defaultCallTimeout).timeAmount
    }

    /// Encodes `request` straight into a NIO buffer: one pass when it fits the first allocation, a second one
    /// (with exactly the room the first pass measured) when it does not.
    func encode(_ request: Request) throws -> ByteBuffer {
        var buffer = channel.allocator.buffer(capacity: 512)
        var needed = 0
        do {
            _ = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 512) { raw in
                let size = try request.encode(into: raw)
                guard size <= raw.count else {
                    needed = size
                    return 0
                }
                return size
            }
            if needed > 0 {
                _ = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: needed) {
                    try request.encode(into: $0)
                }
            }
        } catch {
            throw DqliteError(.invalidRequest, "cannot encode \(request.type.name): \(error)", underlying: error)
        }
        return buffer
    }

    /// Writes a request and waits for the first frame of its answer.
    ///
    /// On failure the connection is poisoned, and the error's ``DqliteError/outcome`` says whether the
    /// request could have reached the server: not if the bytes were never handed to the kernel.
    func send(_ bytes: ByteBuffer, deadline: NIODeadline) async throws -> Frame {
        let loop = channel.eventLoop
        let written = loop.makePromise(of: Void.self)
        let frame = loop.makePromise(of: Frame.self)
        let handler = self.handler
        let channel = self.channel
        let start: @Sendable () -> Void = {
            if let refused = handler.value.refuseUnsolicitedFrames() {
                written.fail(refused)
                frame.fail(refused)
                return
            }
            channel.writeAndFlush(bytes, promise: written)
            handler.value.nextFrame(deadline: deadline, promise: frame)
        }
        // Already on the connection's event loop (a task with that executor preference): no hop.
        if loop.inEventLoop { start() } else { loop.execute(start) }
        do {
            return try await withTaskCancellationHandler {
                try await frame.futureResult.get()
            } onCancel: {
                loop.execute {
                    handler.value.failAndClose(DqliteError(.cancelled, "the call was cancelled", node: nil))
                }
            }
        } catch {
            var failure = asDqliteError(error)
            // Bytes handed to the kernel may have reached the server.
            let wasWritten = (try? await written.futureResult.get()) != nil
            failure.outcome = wasWritten ? .unknown : .notApplied
            if failure.node == nil { failure.node = address.description }
            poison(failure)
            throw failure
        }
    }

    /// Waits for the next frame of a row stream. With `cancellable`, task cancellation abandons the wait
    /// without closing the connection (the stream is then drained); otherwise the wait ignores cancellation.
    func nextFrame(deadline: NIODeadline, cancellable: Bool) async throws -> Frame {
        let loop = channel.eventLoop
        let frame = loop.makePromise(of: Frame.self)
        let handler = self.handler
        if loop.inEventLoop {
            handler.value.nextFrame(deadline: deadline, promise: frame)
        } else {
            loop.execute { handler.value.nextFrame(deadline: deadline, promise: frame) }
        }
        return try await awaitFrames(frame, cancellable: cancellable)
    }

    /// Waits for the next frames of a row stream: every frame queued when the first is there (at most `max`),
    /// in one event-loop hop. Cancellation as in ``nextFrame(deadline:cancellable:)``.
    func nextFrames(max: Int, deadline: NIODeadline, cancellable: Bool) async throws -> CircularBuffer<Frame> {
        let loop = channel.eventLoop
        let frames = loop.makePromise(of: CircularBuffer<Frame>.self)
        let handler = self.handler
        if loop.inEventLoop {
            handler.value.nextFrames(max: max, deadline: deadline, promise: frames)
        } else {
            loop.execute { handler.value.nextFrames(max: max, deadline: deadline, promise: frames) }
        }
        return try await awaitFrames(frames, cancellable: cancellable)
    }

    private func awaitFrames<Value: Sendable>(_ promise: EventLoopPromise<Value>, cancellable: Bool) async throws
        -> Value
    {
        let loop = channel.eventLoop
        let handler = self.handler
        do {
            if cancellable {
                return try await withTaskCancellationHandler {
                    try await promise.futureResult.get()
                } onCancel: {
                    loop.execute {
                        handler.value.abandonWait(DqliteError(.cancelled, "reading rows was cancelled", node: nil))
                    }
                }
            }
            return try await promise.futureResult.get()
        } catch {
            var failure = asDqliteError(error)
            if failure.node == nil { failure.node = address.description }
            // The request is running (its rows are arriving): whatever it does has happened or may have.
            failure.outcome = .unknown
            if failure.code != .cancelled { poison(failure) }
            throw failure
        }
    }

    func asDqliteError(_ error: any Error) -> DqliteError {
        if let error = error as? DqliteError { return error }
        if error is CancellationError {
            return DqliteError(.cancelled, "the call was cancelled", node: address.description)
        }
        if let error = error as? ChannelError, error == .ioOnClosedChannel || error == .alreadyClosed {
            return DqliteError(
                .connectionClosed, "the connection is closed", node: address.description, underlying: error)
        }
        return DqliteError(
            .connectionClosed, "connection failure: \(error)", node: address.description, underlying: error)
    }
}
