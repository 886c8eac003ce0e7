import DqliteWire
import NIOCore
import Testing

@testable import Dqlite

/// Direct tests of the connection's receiving state machine: every event, in good and hostile orders,
/// without a socket or a clock.
@Suite("Connection state machine")
struct ConnectionStateMachineTests {
    static func frame(_ type: ResponseType, words: UInt32 = 1, fill: UInt8 = 0) -> Frame {
        Frame(
            header: FrameHeader(words: words, type: type.rawValue),
            body: [UInt8](repeating: fill, count: Int(words) * 8))
    }

    static func deliveredFrame(_ action: ConnectionStateMachine.Action) -> Frame? {
        if case .frame(let frame)? = action.delivery { return frame }
        return nil
    }

    static func deliveredBatch(_ action: ConnectionStateMachine.Action) -> [Frame]? {
        if case .frames(let frames)? = action.delivery { return Array(frames) }
        return nil
    }

    static func deliveredError(_ action: ConnectionStateMachine.Action) -> DqliteError? {
        if case .failure(let error)? = action.delivery { return error }
        return nil
    }

    /// What must hold after every event.
    static func checkInvariants(_ machine: ConnectionStateMachine) {
        #expect(machine.queuedBytes == machine.frames.reduce(0) { $0 + $1.body.count })
        #expect(machine.queuedBytes >= 0)
        // A batch waiter lets frames gather until the read cycle ends; an answer is taken as it comes.
        if machine.waiting == .one {
            #expect(machine.frames.isEmpty, "a single-frame waiter is parked while frames wait")
        }
        if machine.failure != nil { #expect(machine.waiting == nil, "a waiter is parked on a failed connection") }
    }

    @Test("an answer: a parked single-frame waiter gets the frame as it is decoded")
    func parkedThenFrame() {
        var machine = ConnectionStateMachine(node: "n")
        let wait = machine.wait(.one)
        #expect(wait.park && wait.delivery == nil && !wait.close)
        #expect(machine.waiting == .one)
        let answer = Self.frame(.empty)
        let received = machine.received(answer)
        #expect(Self.deliveredFrame(received) == answer)
        #expect(machine.waiting == nil && machine.frames.isEmpty)
        Self.checkInvariants(machine)
        #expect(Self.deliveredFrame(machine.readComplete()) == nil, "nothing left for the end of the read cycle")
    }

    @Test("a frame already queued answers a new waiter at once, without parking")
    func frameThenWait() {
        var machine = ConnectionStateMachine(node: "n")
        let answer = Self.frame(.empty)
        #expect(machine.received(answer).delivery == nil, "no one waits yet")
        let wait = machine.wait(.one)
        #expect(Self.deliveredFrame(wait) == answer && !wait.park)
        Self.checkInvariants(machine)
    }

    @Test("a batch waiter gets every frame of the read cycle at its end, at most max")
    func batches() {
        var machine = ConnectionStateMachine(node: "n")
        #expect(machine.wait(.batch(max: 3)).park)
        let frames = (0..<5).map { Self.frame(.rows, fill: UInt8($0)) }
        for frame in frames { #expect(machine.received(frame).delivery == nil, "a batch waits for the cycle's end") }
        Self.checkInvariants(machine)
        #expect(Self.deliveredBatch(machine.readComplete()) == Array(frames[0..<3]))
        #expect(machine.frames.count == 2)
        #expect(Self.deliveredBatch(machine.wait(.batch(max: 10))) == Array(frames[3..<5]))
        Self.checkInvariants(machine)
    }

    @Test("a second waiter is refused with connectionBusy; the first stays parked and gets the answer")
    func secondWaiter() {
        var machine = ConnectionStateMachine(node: "n")
        #expect(machine.wait(.one).park)
        let second = machine.wait(.one)
        #expect(Self.deliveredError(second)?.code == .connectionBusy && !second.park && !second.close)
        #expect(machine.waiting == .one)
        let answer = Self.frame(.empty)
        #expect(Self.deliveredFrame(machine.received(answer)) == answer)
    }

    @Test("a deadline fails the parked waiter with timeout and closes; with nothing parked it does nothing")
    func timeout() {
        var machine = ConnectionStateMachine(node: "n")
        #expect(machine.timedOut().delivery == nil && !machine.timedOut().close)
        #expect(machine.wait(.one).park)
        let timedOut = machine.timedOut()
        #expect(Self.deliveredError(timedOut)?.code == .timeout && timedOut.close)
        #expect(machine.failure?.code == .timeout)
        // The late answer is ignored; every later wait fails with the timeout.
        #expect(machine.received(Self.frame(.empty)).delivery == nil)
        #expect(machine.frames.isEmpty)
        #expect(Self.deliveredError(machine.wait(.one))?.code == .timeout)
        Self.checkInvariants(machine)
    }

    @Test("a failure is sticky: the first wins, queued frames are still handed out, then every wait fails")
    func failureIsSticky() {
        var machine = ConnectionStateMachine(node: "n")
        let queued = Self.frame(.rows)
        _ = machine.received(queued)
        let closed = machine.failed(DqliteError(.connectionClosed, "closed by the server"))
        #expect(closed.delivery == nil && !closed.close, "no waiter: nothing to tell; already closed")
        _ = machine.failAndClose(DqliteError(.tls, "a later failure"))
        #expect(machine.failure?.code == .connectionClosed, "the first failure wins")
        #expect(Self.deliveredFrame(machine.wait(.one)) == queued, "a frame received before the failure")
        #expect(Self.deliveredError(machine.wait(.one))?.code == .connectionClosed)
        #expect(Self.deliveredError(machine.wait(.batch(max: 4)))?.code == .connectionClosed)
        Self.checkInvariants(machine)
    }

    @Test("a failure while a waiter is parked fails it")
    func failureWakesWaiter() {
        var machine = ConnectionStateMachine(node: "n")
        #expect(machine.wait(.batch(max: 8)).park)
        let action = machine.failed(DqliteError(.connectionClosed, "reset"))
        #expect(Self.deliveredError(action)?.code == .connectionClosed)
        #expect(machine.waiting == nil)
        Self.checkInvariants(machine)
    }

    @Test("undecodable bytes: protocolViolation for the waiter, the connection closed")
    func decodeFailure() {
        var machine = ConnectionStateMachine(node: "n")
        #expect(machine.wait(.one).park)
        let action = machine.decodeFailed(WireError(.truncated, at: 0, "bad"))
        #expect(Self.deliveredError(action)?.code == .protocolViolation && action.close)
        #expect(machine.failure?.code == .protocolViolation)
    }

    @Test("a frame with no request, or a second answer, refuses the next write and closes (not applied)")
    func unsolicitedFrame() {
        var machine = ConnectionStateMachine(node: "n")
        #expect(machine.beforeWrite(bufferedBytes: 0).refusal == nil, "a clean connection may write")
        #expect(machine.wait(.one).park)
        _ = machine.received(Self.frame(.empty))
        _ = machine.received(Self.frame(.empty))  // a second answer to the same request
        let (refusal, action) = machine.beforeWrite(bufferedBytes: 0)
        #expect(refusal?.code == .protocolViolation && refusal?.outcome == .notApplied && action.close)
        #expect(refusal?.message.contains("1 frame(s)") == true)
        // Refused for good: the connection failed, and the stray frame is gone.
        #expect(machine.beforeWrite(bufferedBytes: 0).refusal?.code == .protocolViolation)
        #expect(machine.frames.isEmpty && machine.queuedBytes == 0)
        #expect(Self.deliveredError(machine.wait(.one))?.code == .protocolViolation)
    }

    @Test("part of a frame left over after an answer refuses the next write")
    func partialFrameLeftOver() {
        var machine = ConnectionStateMachine(node: "n")
        let (refusal, action) = machine.beforeWrite(bufferedBytes: 5)
        #expect(refusal?.code == .protocolViolation && action.close)
        #expect(refusal?.message.contains("5 bytes") == true)
    }

    @Test("a cancelled row stream abandons its wait; rows and EMPTY after INTERRUPT stay queued for the drain")
    func emptyAfterInterrupt() {
        var machine = ConnectionStateMachine(node: "n")
        #expect(machine.abandonWait(DqliteError(.cancelled, "x")).delivery == nil, "nothing parked: nothing to do")
        #expect(machine.wait(.batch(max: 8)).park)
        let abandoned = machine.abandonWait(DqliteError(.cancelled, "reading rows was cancelled"))
        #expect(Self.deliveredError(abandoned)?.code == .cancelled && !abandoned.close)
        #expect(machine.failure == nil, "cancelling a read does not fail the connection")
        let late = [Self.frame(.rows), Self.frame(.empty)]
        for frame in late { #expect(machine.received(frame).delivery == nil) }
        #expect(machine.readComplete().delivery == nil, "no one is parked")
        // The drain (the next request's exclusively-drain) takes them in order.
        #expect(Self.deliveredFrame(machine.wait(.one)) == late[0])
        #expect(Self.deliveredFrame(machine.wait(.one)) == late[1])
        #expect(machine.beforeWrite(bufferedBytes: 0).refusal == nil, "drained: the next request may go")
        Self.checkInvariants(machine)
    }

    @Test("back-pressure: reads are held back while 32 frames or 256 KiB wait, and resume when frames are taken")
    func backPressure() {
        var machine = ConnectionStateMachine(node: "n")
        for index in 0..<ConnectionStateMachine.maxQueuedFrames {
            let mayRead = machine.readRequested()
            #expect(mayRead, "frame \(index): room left")
            _ = machine.received(Self.frame(.rows))
        }
        let mayReadWhenFull = machine.readRequested()
        #expect(!mayReadWhenFull && machine.readHeldBack)
        let taken = machine.wait(.batch(max: 4))
        #expect(Self.deliveredBatch(taken)?.count == 4)
        #expect(taken.read, "room again: the held-back read goes ahead")
        #expect(!machine.readHeldBack)

        var bytes = ConnectionStateMachine(node: "n")
        _ = bytes.received(Self.frame(.rows, words: UInt32(ConnectionStateMachine.maxQueuedBytes / 8)))
        let mayReadLarge = bytes.readRequested()
        #expect(!mayReadLarge, "one large frame fills the byte budget")
        #expect(Self.deliveredFrame(bytes.wait(.one)) != nil)
        let mayReadAfter = bytes.readRequested()
        #expect(mayReadAfter)
        Self.checkInvariants(bytes)
    }

    @Test("a parked waiter on a full queue never happens: waiting takes from the queue first")
    func waitTakesFromQueue() {
        var machine = ConnectionStateMachine(node: "n")
        for _ in 0..<3 { _ = machine.received(Self.frame(.rows)) }
        let wait = machine.wait(.one)
        #expect(!wait.park && Self.deliveredFrame(wait) != nil)
        #expect(machine.frames.count == 2)
        Self.checkInvariants(machine)
    }
}
