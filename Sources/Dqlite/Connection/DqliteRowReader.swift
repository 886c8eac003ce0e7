import DqliteWire
import Logging
import NIOCore

/// Reads the rows of one QUERY / QUERY_SQL result, frame by frame, as the caller asks for them.
///
/// Only one frame is decoded at a time and the socket is read only as rows are consumed, so memory stays
/// bounded however large the result. Frames are taken from the connection in batches (those already
/// received, at most 32), one event-loop hop per batch; each batch read has its own deadline.
///
/// Read to the end, or call ``close()``: that sends INTERRUPT and drains the rest of the stream. A task that is
/// cancelled while it reads is noticed at the next batch at the latest: the reader sends INTERRUPT, drains (within
/// ``DqliteConnection/Configuration/interruptDrainTimeout``, else the connection is closed) and throws
/// ``DqliteError/Code/cancelled``. A reader that is simply dropped is cleaned up by the connection's next
/// request, which interrupts and drains first; the dropped reader then reports
/// ``DqliteError/Code/invalidRequest`` if used again.
public struct DqliteRowReader: Sendable {
    /// Column names.
    public let columns: [String]
    /// True once the result has been read to its end (or closed).
    public private(set) var isFinished: Bool

    let connection: DqliteConnection
    let stream: UInt64
    let timeout: Duration?
    private var rows: RowsDecoder
    /// Frames taken from the connection and not decoded yet.
    private var pending = CircularBuffer<Frame>()

    /// The most frames taken from the connection in one hop.
    static let framesPerBatch = 32

    init(connection: DqliteConnection, stream: UInt64, first: RowsDecoder, timeout: Duration?) {
        self.connection = connection
        self.stream = stream
        self.rows = first
        self.columns = first.columns
        self.timeout = timeout
        self.isFinished = false
    }

    /// Decodes the next row into `row` (reusing its storage); false at the end of the result.
    public mutating func next(into row: inout [WireValue]) async throws -> Bool {
        while !isFinished {
            if try nextReceived(into: &row) { return true }
            if isFinished { return false }
            try await readNextFrame()
        }
        return false
    }

    /// Decodes the next row from the frames already received, without suspending. False when there is none:
    /// the result is finished (``isFinished``), or the next frame has to be awaited.
    mutating func nextReceived(into row: inout [WireValue]) throws -> Bool {
        while !isFinished {
            do {
                if try rows.next(into: &row) { return true }
            } catch {
                finish()
                let failure = DqliteError(
                    .protocolViolation, "undecodable rows: \(error)", node: connection.address.description,
                    underlying: error, outcome: .unknown)
                connection.poison(failure)
                throw failure
            }
            if rows.marker != .part {
                finish()
                return false
            }
            guard let frame = pending.popFirst() else { return false }
            guard connection.isActiveStream(stream) else {
                pending.removeAll()
                isFinished = true
                throw DqliteError(
                    .invalidRequest, "this row stream was abandoned: another request was sent on the connection",
                    node: connection.address.description)
            }
            try take(frame)
        }
        return false
    }

    /// The next row, or nil at the end of the result.
    public mutating func next() async throws -> [WireValue]? {
        var row: [WireValue] = []
        return try await next(into: &row) ? row : nil
    }

    /// Reads every remaining row (at most `limit`; more throws ``DqliteError/Code/invalidRequest`` after
    /// closing the stream).
    public mutating func collect(limit: Int = 1_000_000) async throws -> [[WireValue]] {
        var result: [[WireValue]] = []
        while let row = try await next() {
            guard result.count < limit else {
                await close()
                throw DqliteError(
                    .invalidRequest, "the result has more than \(limit) rows", node: connection.address.description)
            }
            result.append(row)
        }
        return result
    }

    /// Stops reading: sends INTERRUPT and drains the rest of the stream (bounded; the connection is closed if
    /// the server does not finish in time). Does nothing once the result was read to its end.
    public mutating func close() async {
        guard !isFinished else { return }
        isFinished = true
        let connection = self.connection
        let stream = self.stream
        _ = try? await connection.exclusivelyKeepingStream {
            guard connection.isActiveStream(stream) else { return }
            connection.endStream(stream)
            await connection.interruptAndDrain()
        }
    }

    private mutating func finish() {
        isFinished = true
        connection.endStream(stream)
        if !pending.isEmpty {
            // Frames after the end of the result: no request asked for them.
            let failure = DqliteError(
                .protocolViolation, "the server sent \(pending.count) frame(s) after the end of a result",
                node: connection.address.description, outcome: .unknown)
            pending.removeAll()
            connection.poison(failure)
        }
    }

    private mutating func readNextFrame() async throws {
        // Once per batch: with frames always waiting (read-ahead), the wait below returns at once and never
        // reaches its cancellation handler, so a cancelled task would otherwise read the result to its end.
        if Task.isCancelled {
            await close()
            throw DqliteError(
                .cancelled, "the task reading the rows was cancelled; the rest of the result was discarded",
                node: connection.address.description, outcome: .unknown)
        }
        let connection = self.connection
        let stream = self.stream
        let timeout = self.timeout
        var batch: CircularBuffer<Frame>
        do {
            batch = try await connection.exclusivelyKeepingStream {
                guard connection.isActiveStream(stream) else {
                    throw DqliteError(
                        .invalidRequest, "this row stream was abandoned: another request was sent on the connection",
                        node: connection.address.description)
                }
                return try await connection.nextFrames(
                    max: Self.framesPerBatch, deadline: connection.deadline(timeout), cancellable: true)
            }
        } catch {
            // Cancelled: the stream stays active so that it is drained (close(), or the next request).
            if let failure = error as? DqliteError, failure.code == .cancelled { throw error }
            finish()
            throw error
        }
        guard let frame = batch.popFirst() else { return }
        pending = batch
        try take(frame)
    }

    /// Makes `frame`, the next frame of the stream, the current one (or ends the stream with it).
    private mutating func take(_ frame: Frame) throws {
        switch ResponseType(rawValue: frame.header.type) {
        case .rows?:
            do {
                let next = try RowsDecoder(frame: frame, limits: connection.configuration.limits)
                guard next.columns == columns else {
                    throw DqliteError(.protocolViolation, "the columns changed between frames of one result")
                }
                rows = next
            } catch {
                finish()
                let failure = DqliteError(
                    .protocolViolation, "bad ROWS frame: \(error)", node: connection.address.description,
                    underlying: error, outcome: .unknown)
                connection.poison(failure)
                throw failure
            }
        case .failure?:
            finish()
            _ = try connection.interpret(frame, answering: .querySQL(SQLCall(sql: "?")))
        case .empty?:
            // 1.18.2+ may end an interrupted stream with EMPTY.
            finish()
        default:
            finish()
            let failure = DqliteError(
                .protocolViolation, "a row stream continued with a message of type \(frame.header.type)",
                node: connection.address.description, outcome: .unknown)
            connection.poison(failure)
            throw failure
        }
    }
}

extension DqliteConnection {
    /// Sends QUERY or QUERY_SQL and returns a reader for its rows (read it to the end, or ``DqliteRowReader/close()``).
    /// A FAILURE answer throws at once. Prefer ``withRows(_:timeout:_:)``, which always closes the reader.
    public func startRows(_ request: Request, timeout: Duration? = nil) async throws -> DqliteRowReader {
        try Self.validate(request, address: address)
        guard request.type == .query || request.type == .querySQL else {
            throw DqliteError(
                .invalidRequest, "rows come from QUERY or QUERY_SQL, not \(request.type.name)",
                node: address.description)
        }
        let bytes = try encode(request)
        return try await exclusively {
            let first = try await send(bytes, deadline: deadline(timeout))
            let response = ResponseType(rawValue: first.header.type)
            if response != .rows {
                // FAILURE throws; anything else is a protocol violation.
                _ = try interpret(first, answering: request)
                let failure = DqliteError(
                    .protocolViolation, "the server answered \(request.type.name) with \(response?.name ?? "?")",
                    node: address.description, outcome: .unknown)
                poison(failure)
                throw failure
            }
            let decoder: RowsDecoder
            do {
                decoder = try RowsDecoder(frame: first, limits: configuration.limits)
            } catch {
                let failure = DqliteError(
                    .protocolViolation, "bad ROWS frame: \(error)", node: address.description, underlying: error,
                    outcome: .unknown)
                poison(failure)
                throw failure
            }
            return DqliteRowReader(connection: self, stream: beginStream(), first: decoder, timeout: timeout)
        }
    }

    /// Sends QUERY or QUERY_SQL and lets `body` read the rows.
    ///
    /// ```swift
    /// try await connection.withRows(.querySQL(SQLCall(sql: "SELECT id, name FROM users"))) { rows in
    ///     var row: [WireValue] = []
    ///     while try await rows.next(into: &row) { print(row) }
    /// }
    /// ```
    ///
    /// If `body` returns or throws before the end of the result — or the task is cancelled while it waits
    /// for rows — INTERRUPT is sent and the rest of the stream is read and discarded (servers send the whole
    /// result before they read the INTERRUPT; bounded by
    /// ``Configuration/interruptDrainTimeout`` and ``Configuration/interruptDrainMaxFrames``; past those the
    /// connection is closed instead), so the connection stays usable.
    public func withRows<Result>(
        _ request: Request, timeout: Duration? = nil, _ body: (inout DqliteRowReader) async throws -> Result
    ) async throws -> Result {
        var reader = try await startRows(request, timeout: timeout)
        let result: Result
        do {
            result = try await body(&reader)
        } catch {
            await reader.close()
            throw error
        }
        await reader.close()
        return result
    }

    /// Sends INTERRUPT and discards the rest of the current row stream until EMPTY, within bounds; closes
    /// the connection if the server does not finish in time. Ignores task cancellation (it is the clean-up).
    func interruptAndDrain() async {
        guard isUsable else { return }
        let bytes: ByteBuffer
        do { bytes = try encode(.interrupt(db: 0)) } catch { return }
        let deadline = NIODeadline.now() + configuration.interruptDrainTimeout.timeAmount
        channel.writeAndFlush(bytes, promise: nil)
        var discarded = 0
        while true {
            // Frames are taken in batches: one event-loop hop per batch, not per frame.
            guard
                var batch = try? await nextFrames(
                    max: DqliteRowReader.framesPerBatch, deadline: deadline, cancellable: false)
            else { return }
            while let frame = batch.popFirst() {
                switch ResponseType(rawValue: frame.header.type) {
                case .empty?:
                    if !batch.isEmpty {
                        poison(
                            DqliteError(
                                .protocolViolation,
                                "the server sent \(batch.count) frame(s) after the end of INTERRUPT",
                                node: address.description))
                        return
                    }
                    logger.trace(
                        "row stream interrupted", metadata: ["node": "\(address)", "discarded": "\(discarded)"])
                    return
                case .rows?, .failure?:
                    discarded += 1
                    if discarded > configuration.interruptDrainMaxFrames {
                        poison(DqliteError(.timeout, "too many frames after INTERRUPT", node: address.description))
                        return
                    }
                default:
                    poison(
                        DqliteError(
                            .protocolViolation, "unexpected message type \(frame.header.type) after INTERRUPT",
                            node: address.description))
                    return
                }
            }
        }
    }
}
