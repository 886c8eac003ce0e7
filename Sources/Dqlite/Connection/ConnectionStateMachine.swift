import DqliteWire
import NIOCore

/// The receiving side of one connection as a value: which frames are queued, who waits for them, whether the
/// socket may be read, and whether the connection has failed. Every decision is made here; the channel
/// handler (``FrameChannelHandler``) feeds it events (a decoded frame, the end of a read cycle, a wait, a
/// deadline, a failure) and carries out the ``Action`` it returns. No I/O, no clock, no promises, so every
/// transition is tested directly (`ConnectionStateMachineTests`).
///
/// - A frame is handed to one waiter: a single-frame waiter (an answer) at once, a batch waiter (a row stream)
///   at the end of the read cycle, with every frame queued by then (at most its `max`).
/// - The queue is bounded: while ``maxQueuedFrames`` frames or ``maxQueuedBytes`` bytes wait, the socket is
///   not read (``readRequested()`` says no), and reading resumes when frames are taken.
/// - Failing is one transition (``failed(_:)``): the first failure is kept, frames already queued are still
///   handed out, then every wait fails with it and later bytes are ignored.
/// - Before a request is written, anything the server sent that no request asked for (a second answer, a
///   frame after the last one, part of a frame) fails the connection (``beforeWrite(bufferedBytes:)``): handing
///   it to the next request would shift every later answer by one.
struct ConnectionStateMachine {
    /// What a waiter wants.
    enum Wait: Hashable {
        /// One frame (the answer to a request, or the next frame of a row stream).
        case one
        /// Every frame queued once the first is there, at most `max`.
        case batch(max: Int)
    }

    /// What a waiter gets.
    enum Delivery {
        /// The frame a `.one` waiter asked for.
        case frame(Frame)
        /// The frames a `.batch` waiter asked for (at least one).
        case frames(CircularBuffer<Frame>)
        /// The wait failed.
        case failure(DqliteError)
    }

    /// What the handler does after an event, in this order: complete the waiter, read, close.
    struct Action {
        /// The parked waiter's result (for ``wait(_:)``: the new waiter's, when it is answered at once).
        var delivery: Delivery?
        /// ``wait(_:)`` only: the waiter is parked; start its deadline timer.
        var park = false
        /// Ask the socket for more bytes (a read that was held back while the queue was full).
        var read = false
        /// Close the channel.
        var close = false

        static let none = Action()
    }

    /// Frames queued before the socket is no longer read.
    static let maxQueuedFrames = 32
    /// Bytes of queued frame bodies before the socket is no longer read.
    static let maxQueuedBytes = 256 * 1024

    /// The node, for error messages.
    let node: String
    /// The first failure, once the connection failed.
    private(set) var failure: DqliteError?
    /// Frames received and not yet handed out.
    private(set) var frames = CircularBuffer<Frame>(initialCapacity: 8)
    /// Body bytes of ``frames``.
    private(set) var queuedBytes = 0
    /// The parked waiter, if any.
    private(set) var waiting: Wait?
    /// True while a read is held back because the queue is full.
    private(set) var readHeldBack = false

    init(node: String) { self.node = node }

    var queueIsFull: Bool { frames.count >= Self.maxQueuedFrames || queuedBytes >= Self.maxQueuedBytes }

    // MARK: - Events from the socket

    /// A frame was decoded. Ignored once the connection failed.
    mutating func received(_ frame: Frame) -> Action {
        guard failure == nil else { return .none }
        queuedBytes += frame.body.count
        frames.append(frame)
        // An answer is served at once; a batch waiter takes everything this read cycle brings.
        return waiting == .one ? deliverToParked() : .none
    }

    /// The read cycle ended: a parked waiter gets what is queued.
    mutating func readComplete() -> Action { deliverToParked() }

    /// The bytes do not decode: the stream position can no longer be trusted.
    mutating func decodeFailed(_ error: any Error) -> Action {
        failAndClose(
            DqliteError(
                .protocolViolation, "undecodable bytes from the server: \(error)", node: node, underlying: error))
    }

    /// The socket wants to read; false (and the read held back) while the queue is full.
    mutating func readRequested() -> Bool {
        guard !queueIsFull else {
            readHeldBack = true
            return false
        }
        return true
    }

    // MARK: - Events from the connection

    /// A new waiter. Answered at once (``Action/delivery``) from the queue, with the failure, or with
    /// ``DqliteError/Code/connectionBusy`` if another waiter is parked; otherwise parked (``Action/park``).
    mutating func wait(_ kind: Wait) -> Action {
        if !frames.isEmpty {
            var action = Action.none
            action.delivery = take(kind)
            action.read = resumeReading()
            return action
        }
        if let failure { return Action(delivery: .failure(failure)) }
        guard waiting == nil else {
            return Action(
                delivery: .failure(
                    DqliteError(.connectionBusy, "a frame is already awaited on this connection", node: node)))
        }
        waiting = kind
        return Action(park: true, read: resumeReading())
    }

    /// The parked waiter's deadline passed: it fails with a timeout, and the connection is closed because an
    /// answer may still be on its way.
    mutating func timedOut() -> Action {
        guard waiting != nil else { return .none }
        return failAndClose(DqliteError(.timeout, "no answer before the deadline", node: node))
    }

    /// The parked waiter gives up (a row stream's task was cancelled) without failing the connection: the
    /// stream is drained later, so frames that arrive after this stay queued.
    mutating func abandonWait(_ error: DqliteError) -> Action {
        guard waiting != nil else { return .none }
        waiting = nil
        return Action(delivery: .failure(error))
    }

    /// Before a request is written: the error that refuses it (the connection's failure, or a
    /// ``DqliteError/Code/protocolViolation`` for anything queued or half-received that no request asked
    /// for, which also drops those frames and fails and closes the connection), or nil to go ahead.
    mutating func beforeWrite(bufferedBytes: Int) -> (refusal: DqliteError?, action: Action) {
        if let failure { return (failure, .none) }
        guard !frames.isEmpty || bufferedBytes > 0 else { return (nil, .none) }
        let what =
            frames.isEmpty
            ? "\(bufferedBytes) bytes"
            : "\(frames.count) frame(s) (first of type \(frames[frames.startIndex].header.type))"
        // Nothing queued belongs to any request: dropped, so no later wait can take it.
        frames.removeAll()
        queuedBytes = 0
        let action = failAndClose(
            DqliteError(
                .protocolViolation, "the server sent \(what) that no request asked for", node: node,
                outcome: .notApplied))
        return (failure, action)
    }

    // MARK: - Failing

    /// The connection failed (end of stream, reset, TLS alert, handler removed, poisoned). The first failure
    /// is kept; a parked waiter still gets queued frames first, else the failure.
    mutating func failed(_ error: DqliteError) -> Action {
        if failure == nil { failure = error }
        var action = deliverToParked()
        if action.delivery == nil, waiting != nil {
            waiting = nil
            action.delivery = .failure(failure ?? error)
        }
        return action
    }

    /// ``failed(_:)``, and close the channel.
    mutating func failAndClose(_ error: DqliteError) -> Action {
        var action = failed(error)
        action.close = true
        return action
    }

    // MARK: - Internals

    private mutating func deliverToParked() -> Action {
        guard let kind = waiting, !frames.isEmpty else { return .none }
        waiting = nil
        var action = Action.none
        action.delivery = take(kind)
        action.read = resumeReading()
        return action
    }

    /// Takes what `kind` asks for from a non-empty queue.
    private mutating func take(_ kind: Wait) -> Delivery {
        switch kind {
        case .one:
            guard let frame = popFrame() else {
                return .failure(DqliteError(.protocolViolation, "no frame queued", node: node))
            }
            return .frame(frame)
        case .batch(let max):
            let limit = Swift.max(max, 1)
            var batch = CircularBuffer<Frame>(initialCapacity: Swift.min(limit, frames.count))
            while batch.count < limit, let frame = popFrame() { batch.append(frame) }
            return .frames(batch)
        }
    }

    private mutating func popFrame() -> Frame? {
        guard let frame = frames.popFirst() else { return nil }
        queuedBytes -= frame.body.count
        return frame
    }

    /// True (and no longer held back) when a held-back read may go ahead now.
    private mutating func resumeReading() -> Bool {
        guard readHeldBack, !queueIsFull else { return false }
        readHeldBack = false
        return true
    }
}
