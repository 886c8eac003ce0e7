import DqliteWire
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import Testing

@testable import Dqlite

/// The handler that runs the connection state machine, over `EmbeddedChannel`: bytes in, frames out, the
/// deadline on the embedded clock, hostile orders.
@Suite("Frame channel handler")
struct FrameChannelHandlerTests {
    static func bytes(_ type: ResponseType, words: UInt32 = 1) -> ByteBuffer {
        ByteBuffer(
            bytes: FrameHeader(words: words, type: type.rawValue).bytes + [UInt8](repeating: 7, count: Int(words) * 8))
    }

    /// The handler in a fresh channel (connected, so that close is observable).
    static func make() throws -> (EmbeddedChannel, FrameChannelHandler) {
        let handler = FrameChannelHandler(node: "test", limits: .default)
        let channel = EmbeddedChannel(handler: handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9001)).wait()
        return (channel, handler)
    }

    /// The result of a future on the embedded loop (callbacks run inline).
    static func outcome<Value: Sendable>(_ future: EventLoopFuture<Value>) -> Result<Value, any Error>? {
        let box = NIOLockedValueBox<Result<Value, any Error>?>(nil)
        future.whenComplete { result in box.withLockedValue { $0 = result } }
        return box.withLockedValue { $0 }
    }

    @Test("a frame split over two reads answers the parked request")
    func splitFrame() throws {
        let (channel, handler) = try Self.make()
        let promise = channel.eventLoop.makePromise(of: Frame.self)
        handler.nextFrame(deadline: .now() + .seconds(5), promise: promise)
        var buffer = Self.bytes(.empty)
        let slice = buffer.readSlice(length: 5)
        let first = try #require(slice)
        try channel.writeInbound(first)
        #expect(Self.outcome(promise.futureResult) == nil, "half a header answers nothing")
        try channel.writeInbound(buffer)
        let frame = try Self.outcome(promise.futureResult)?.get()
        #expect(frame?.header.type == ResponseType.empty.rawValue)
        #expect(handler.refuseUnsolicitedFrames() == nil)
        #expect(channel.isActive)
        _ = try? channel.finish()
    }

    @Test("the deadline on the event loop's clock fails the request with timeout and closes the channel")
    func deadline() throws {
        let (channel, handler) = try Self.make()
        let promise = channel.eventLoop.makePromise(of: Frame.self)
        handler.nextFrame(deadline: channel.embeddedEventLoop.now + .seconds(5), promise: promise)
        channel.embeddedEventLoop.advanceTime(by: .seconds(4))
        #expect(Self.outcome(promise.futureResult) == nil)
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(throws: DqliteError.self) { try Self.outcome(promise.futureResult)?.get() }
        #expect(handler.recordedFailure?.code == .timeout)
        #expect(!channel.isActive, "an answer may still come: the connection is closed")
    }

    @Test("a second answer refuses the next request (protocolViolation, not applied) and closes")
    func secondAnswer() throws {
        let (channel, handler) = try Self.make()
        let promise = channel.eventLoop.makePromise(of: Frame.self)
        handler.nextFrame(deadline: .now() + .seconds(5), promise: promise)
        var two = Self.bytes(.empty)
        two.writeImmutableBuffer(Self.bytes(.empty))
        try channel.writeInbound(two)
        #expect(try Self.outcome(promise.futureResult)?.get() != nil)
        let refusal = handler.refuseUnsolicitedFrames()
        #expect(refusal?.code == .protocolViolation && refusal?.outcome == .notApplied)
        #expect(!channel.isActive)
    }

    @Test("a frame no request asked for, then bytes after close: refused, and ignored")
    func frameWithoutRequest() throws {
        let (channel, handler) = try Self.make()
        try channel.writeInbound(Self.bytes(.failure, words: 2))
        #expect(handler.refuseUnsolicitedFrames()?.code == .protocolViolation)
        #expect(!channel.isActive)
        let promise = channel.eventLoop.makePromise(of: Frame.self)
        handler.nextFrame(deadline: .now() + .seconds(5), promise: promise)
        #expect(throws: DqliteError.self) { try Self.outcome(promise.futureResult)?.get() }
    }

    @Test("undecodable bytes fail the parked request with protocolViolation and close the channel")
    func undecodable() throws {
        let (channel, handler) = try Self.make()
        let promise = channel.eventLoop.makePromise(of: Frame.self)
        handler.nextFrame(deadline: .now() + .seconds(5), promise: promise)
        // A header announcing a body far beyond the limits.
        try channel.writeInbound(ByteBuffer(bytes: FrameHeader(words: .max, type: 7).bytes))
        let result = Self.outcome(promise.futureResult)
        if case .failure(let error as DqliteError)? = result {
            #expect(error.code == .protocolViolation)
        } else {
            Issue.record("expected protocolViolation, got \(String(describing: result))")
        }
        #expect(!channel.isActive)
    }
}
