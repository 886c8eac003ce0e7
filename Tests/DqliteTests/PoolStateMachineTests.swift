import DqliteWireTestSupport
import Testing

@testable import Dqlite

// Direct tests of the pool's pure state machine (`PoolStateMachine`): every transition and each action it
// returns, hostile call orders, and random walks of valid calls. Time is injected (instants built from one
// `t0`), nothing sleeps. Every step goes through `PoolHarness`, which checks the invariants after it.

/// The pool's connection in these tests: an identity and the generation it was created for.
final class PoolTestConnection: Sendable {
    let id: Int
    let generation: UInt64

    init(id: Int, generation: UInt64) {
        self.id = id
        self.generation = generation
    }
}

typealias TestPoolMachine = PoolStateMachine<PoolTestConnection>

/// ``PoolStateMachine/LeaseAction`` with connections as ids and errors as codes, to compare with `==`.
enum LeaseResult: Equatable {
    case use(Int, idleFor: Duration)
    case create(generation: UInt64)
    case wait
    case fail(DqliteError.Code)

    init(_ action: TestPoolMachine.LeaseAction) {
        switch action {
        case .use(let connection, let idleFor): self = .use(connection.id, idleFor: idleFor)
        case .create(let generation): self = .create(generation: generation)
        case .wait: self = .wait
        case .fail(let error): self = .fail(error.code)
        }
    }
}

/// ``PoolStateMachine/WaiterOutcome`` with connections as ids.
enum OutcomeResult: Equatable {
    case connection(Int)
    case create(generation: UInt64)
    case closed

    init(_ outcome: TestPoolMachine.WaiterOutcome) {
        switch outcome {
        case .connection(let connection): self = .connection(connection.id)
        case .create(let generation): self = .create(generation: generation)
        case .closed: self = .closed
        }
    }
}

/// ``PoolStateMachine/ReleaseAction`` with connections as ids.
enum ReleaseResult: Equatable {
    case none
    case close(Int)
    case resume(waiter: Int, outcome: OutcomeResult, closing: Int?)

    init(_ action: TestPoolMachine.ReleaseAction) {
        switch action {
        case .none: self = .none
        case .close(let connection): self = .close(connection.id)
        case .resume(let waiter, let outcome, let closing):
            self = .resume(waiter: waiter, outcome: OutcomeResult(outcome), closing: closing?.id)
        }
    }
}

/// What must hold after every step, whatever the order of calls.
func checkInvariants(_ machine: TestPoolMachine, sourceLocation: SourceLocation = #_sourceLocation) {
    let limits = machine.limits
    #expect(machine.leased >= 0, "leased went negative: \(machine.leased)", sourceLocation: sourceLocation)
    #expect(machine.creating >= 0, "creating went negative: \(machine.creating)", sourceLocation: sourceLocation)
    #expect(
        machine.total == machine.idle.count + machine.leased + machine.creating, sourceLocation: sourceLocation)
    #expect(
        machine.total <= limits.maximum, "total \(machine.total) is above the maximum \(limits.maximum)",
        sourceLocation: sourceLocation)
    #expect(machine.waiters.count <= limits.maximumWaiters, sourceLocation: sourceLocation)
    #expect(
        Set(machine.waiters).count == machine.waiters.count, "a waiter is queued twice", sourceLocation: sourceLocation)
    #expect(
        machine.waiters.isEmpty || (machine.idle.isEmpty && machine.total == limits.maximum),
        "waiters \(machine.waiters) queued while a connection or slot is free: idle \(machine.idle.count), total \(machine.total)",
        sourceLocation: sourceLocation)
    #expect(
        Set(machine.idle.map { ObjectIdentifier($0.connection) }).count == machine.idle.count,
        "a connection is idle twice", sourceLocation: sourceLocation)
    #expect(
        zip(machine.idle, machine.idle.dropFirst()).allSatisfy { $0.since <= $1.since },
        "idle connections are not oldest first", sourceLocation: sourceLocation)
    #expect(
        machine.idle.allSatisfy { $0.connection.generation == machine.generation },
        "an idle connection is of an old generation", sourceLocation: sourceLocation)
    #expect(machine.generation >= 1, sourceLocation: sourceLocation)
    if machine.isShutDown {
        #expect(
            machine.waiters.isEmpty && machine.idle.isEmpty, "a shut-down pool keeps waiters or idle connections",
            sourceLocation: sourceLocation)
    }
}

/// A state machine, an injected clock (offsets from `t0`) and connections by id; every call checks the invariants.
final class PoolHarness {
    var machine: TestPoolMachine
    let t0 = ContinuousClock.now
    private var connections: [Int: PoolTestConnection] = [:]
    private var nextID = 0

    init(minimum: Int = 0, maximum: Int, maximumWaiters: Int = 10, idleTimeout: Duration = .seconds(30)) {
        machine = TestPoolMachine(
            limits: .init(
                minimum: minimum, maximum: maximum, maximumWaiters: maximumWaiters, idleTimeout: idleTimeout))
        checkInvariants(machine)
    }

    func at(_ offset: Duration) -> ContinuousClock.Instant { t0.advanced(by: offset) }

    /// A new connection (what the factory would return), of the current generation unless told.
    func newConnection(generation: UInt64? = nil) -> PoolTestConnection {
        nextID += 1
        let connection = PoolTestConnection(id: nextID, generation: generation ?? machine.generation)
        connections[nextID] = connection
        return connection
    }

    func connection(_ id: Int) -> PoolTestConnection? { connections[id] }

    func lease(_ waiter: Int, at offset: Duration = .zero, sourceLocation: SourceLocation = #_sourceLocation)
        -> LeaseResult
    {
        defer { checkInvariants(machine, sourceLocation: sourceLocation) }
        return LeaseResult(machine.lease(waiter: waiter, now: at(offset)))
    }

    func created(sourceLocation: SourceLocation = #_sourceLocation) {
        machine.created()
        checkInvariants(machine, sourceLocation: sourceLocation)
    }

    func creationFailed(sourceLocation: SourceLocation = #_sourceLocation) -> ReleaseResult {
        defer { checkInvariants(machine, sourceLocation: sourceLocation) }
        return ReleaseResult(machine.creationFailed())
    }

    func release(
        _ connection: PoolTestConnection, reusable: Bool = true, at offset: Duration = .zero,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> ReleaseResult {
        defer { checkInvariants(machine, sourceLocation: sourceLocation) }
        return ReleaseResult(
            machine.release(connection, reusable: reusable, generation: connection.generation, now: at(offset)))
    }

    func cancelWaiter(_ waiter: Int, sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        defer { checkInvariants(machine, sourceLocation: sourceLocation) }
        return machine.cancelWaiter(waiter)
    }

    func leaderChanged(sourceLocation: SourceLocation = #_sourceLocation) -> [Int] {
        defer { checkInvariants(machine, sourceLocation: sourceLocation) }
        return machine.leaderChanged().map(\.id)
    }

    func expire(at offset: Duration, sourceLocation: SourceLocation = #_sourceLocation) -> [Int] {
        defer { checkInvariants(machine, sourceLocation: sourceLocation) }
        return machine.expire(now: at(offset)).map(\.id)
    }

    func refill(sourceLocation: SourceLocation = #_sourceLocation) -> (count: Int, generation: UInt64) {
        defer { checkInvariants(machine, sourceLocation: sourceLocation) }
        return machine.refill()
    }

    func refilled(
        _ connection: PoolTestConnection, at offset: Duration = .zero,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> ReleaseResult {
        defer { checkInvariants(machine, sourceLocation: sourceLocation) }
        return ReleaseResult(machine.refilled(connection, generation: connection.generation, now: at(offset)))
    }

    func shutDown(sourceLocation: SourceLocation = #_sourceLocation) -> (waiters: [Int], idle: [Int]) {
        defer { checkInvariants(machine, sourceLocation: sourceLocation) }
        let (waiters, idle) = machine.shutDown()
        return (waiters, idle.map(\.id))
    }

    /// Leases through a new connection: `lease` answers `.create`, the factory succeeds, `created()`.
    func leaseNew(_ waiter: Int, sourceLocation: SourceLocation = #_sourceLocation) -> PoolTestConnection {
        #expect(
            lease(waiter, sourceLocation: sourceLocation) == .create(generation: machine.generation),
            sourceLocation: sourceLocation)
        created(sourceLocation: sourceLocation)
        return newConnection()
    }
}

@Suite("Pool state machine")
struct PoolStateMachineTests {
    // MARK: - Lease

    @Test("lease reuses idle connections last-in first-out and reports how long each sat idle")
    func leaseFromIdleIsLIFO() {
        let pool = PoolHarness(maximum: 3)
        let a = pool.leaseNew(0)
        let b = pool.leaseNew(1)
        let c = pool.leaseNew(2)
        #expect(pool.release(a, at: .seconds(1)) == .none)
        #expect(pool.release(b, at: .seconds(2)) == .none)
        #expect(pool.release(c, at: .seconds(3)) == .none)
        #expect(pool.machine.idle.map(\.connection.id) == [a.id, b.id, c.id])
        #expect(pool.machine.leased == 0 && pool.machine.total == 3)

        #expect(pool.lease(3, at: .seconds(10)) == .use(c.id, idleFor: .seconds(7)))
        #expect(pool.lease(4, at: .seconds(10)) == .use(b.id, idleFor: .seconds(8)))
        #expect(pool.lease(5, at: .seconds(10)) == .use(a.id, idleFor: .seconds(9)))
        #expect(pool.machine.idle.isEmpty && pool.machine.leased == 3 && pool.machine.creating == 0)
        #expect(pool.machine.waiters.isEmpty)
    }

    @Test("an idle connection released just now is reused with idleFor zero")
    func leaseJustReleased() {
        let pool = PoolHarness(maximum: 1)
        let a = pool.leaseNew(0)
        #expect(pool.release(a, at: .seconds(5)) == .none)
        #expect(pool.lease(1, at: .seconds(5)) == .use(a.id, idleFor: .zero))
    }

    @Test("lease below the maximum reserves a slot: total counts it before the connection exists")
    func leaseCreatesBelowMaximum() {
        let pool = PoolHarness(maximum: 2)
        #expect(pool.lease(0) == .create(generation: 1))
        #expect(pool.machine.creating == 1 && pool.machine.leased == 0 && pool.machine.total == 1)
        #expect(pool.lease(1) == .create(generation: 1))
        #expect(pool.machine.creating == 2 && pool.machine.total == 2)
        // Both slots are taken although no connection exists yet: the next caller waits.
        #expect(pool.lease(2) == .wait)
        pool.created()
        #expect(pool.machine.creating == 1 && pool.machine.leased == 1 && pool.machine.total == 2)
        pool.created()
        #expect(pool.machine.creating == 0 && pool.machine.leased == 2 && pool.machine.total == 2)
    }

    @Test("a failed creation without waiters frees its slot")
    func creationFailedWithoutWaiters() {
        let pool = PoolHarness(maximum: 1)
        #expect(pool.lease(0) == .create(generation: 1))
        #expect(pool.creationFailed() == .none)
        #expect(pool.machine.total == 0 && pool.machine.creating == 0)
        // The slot is free again.
        #expect(pool.lease(1) == .create(generation: 1))
    }

    @Test("a failed creation hands its slot to the first waiter as .create")
    func creationFailedHandsSlotToFirstWaiter() {
        let pool = PoolHarness(maximum: 1)
        #expect(pool.lease(0) == .create(generation: 1))
        #expect(pool.lease(1) == .wait)
        #expect(pool.lease(2) == .wait)
        #expect(pool.creationFailed() == .resume(waiter: 1, outcome: .create(generation: 1), closing: nil))
        #expect(pool.machine.creating == 1 && pool.machine.total == 1 && pool.machine.waiters == [2])
        // Waiter 1 fails too: waiter 2 gets the slot next.
        #expect(pool.creationFailed() == .resume(waiter: 2, outcome: .create(generation: 1), closing: nil))
        #expect(pool.machine.creating == 1 && pool.machine.waiters.isEmpty)
        #expect(pool.creationFailed() == .none)
        #expect(pool.machine.total == 0)
    }

    @Test("lease at the maximum queues the caller; a full queue fails with poolExhausted")
    func waitAtMaximumThenQueueFull() {
        let pool = PoolHarness(maximum: 1, maximumWaiters: 2)
        _ = pool.leaseNew(0)
        #expect(pool.lease(1) == .wait)
        #expect(pool.lease(2) == .wait)
        #expect(pool.machine.waiters == [1, 2])
        #expect(pool.lease(3) == .fail(.poolExhausted))
        #expect(pool.machine.waiters == [1, 2], "a refused caller is not queued")
        #expect(pool.machine.total == 1)
    }

    @Test("with maximumWaiters 0 a lease at the maximum fails at once")
    func noWaitersAllowed() {
        let pool = PoolHarness(maximum: 1, maximumWaiters: 0)
        _ = pool.leaseNew(0)
        #expect(pool.lease(1) == .fail(.poolExhausted))
        #expect(pool.machine.waiters.isEmpty)
    }

    @Test("lease after shutDown fails with poolClosed, even with idle capacity")
    func leaseAfterShutDownFails() {
        let pool = PoolHarness(maximum: 2)
        let a = pool.leaseNew(0)
        #expect(pool.release(a) == .none)
        #expect(pool.shutDown().idle == [a.id])
        #expect(pool.lease(1) == .fail(.poolClosed))
        #expect(pool.machine.total == 0 && pool.machine.waiters.isEmpty)
    }

    // MARK: - Release

    @Test("release with no waiter puts the connection in idle")
    func releaseToIdle() {
        let pool = PoolHarness(maximum: 2)
        let a = pool.leaseNew(0)
        #expect(pool.release(a, at: .seconds(4)) == .none)
        #expect(pool.machine.idle.count == 1 && pool.machine.leased == 0 && pool.machine.total == 1)
        #expect(pool.machine.idle.first?.connection === a)
        #expect(pool.machine.idle.first?.since == pool.at(.seconds(4)))
    }

    @Test("release hands the connection to the waiters first-come first-served")
    func releaseHandsToWaitersFIFO() {
        let pool = PoolHarness(maximum: 1)
        let a = pool.leaseNew(0)
        #expect(pool.lease(7) == .wait)
        #expect(pool.lease(3) == .wait)
        #expect(pool.lease(5) == .wait)
        #expect(pool.release(a) == .resume(waiter: 7, outcome: .connection(a.id), closing: nil))
        #expect(pool.machine.leased == 1 && pool.machine.idle.isEmpty && pool.machine.waiters == [3, 5])
        #expect(pool.release(a) == .resume(waiter: 3, outcome: .connection(a.id), closing: nil))
        #expect(pool.release(a) == .resume(waiter: 5, outcome: .connection(a.id), closing: nil))
        #expect(pool.release(a) == .none)
        #expect(pool.machine.leased == 0 && pool.machine.idle.count == 1 && pool.machine.total == 1)
    }

    @Test("a connection released as not reusable is closed, and its slot goes to the first waiter")
    func releaseNotReusable() {
        let pool = PoolHarness(maximum: 1)
        let a = pool.leaseNew(0)
        #expect(pool.lease(1) == .wait)
        #expect(pool.release(a, reusable: false) == .resume(waiter: 1, outcome: .create(generation: 1), closing: a.id))
        #expect(pool.machine.leased == 0 && pool.machine.creating == 1 && pool.machine.total == 1)
        pool.created()
        let b = pool.newConnection()
        // No waiter: just closed, the slot is freed.
        #expect(pool.release(b, reusable: false) == .close(b.id))
        #expect(pool.machine.total == 0 && pool.machine.idle.isEmpty)
    }

    // MARK: - Leader change

    @Test("leaderChanged closes idle connections and starts a new generation")
    func leaderChangedClosesIdle() {
        let pool = PoolHarness(maximum: 3)
        let a = pool.leaseNew(0)
        let b = pool.leaseNew(1)
        let c = pool.leaseNew(2)
        #expect(pool.release(a, at: .seconds(1)) == .none)
        #expect(pool.release(b, at: .seconds(2)) == .none)
        #expect(pool.leaderChanged() == [a.id, b.id])
        #expect(pool.machine.generation == 2)
        #expect(pool.machine.idle.isEmpty && pool.machine.leased == 1 && pool.machine.total == 1)
        // New slots are of the new generation.
        #expect(pool.lease(3) == .create(generation: 2))
        pool.created()
        let d = pool.newConnection()
        #expect(d.generation == 2)
        // A connection of the old generation is closed when it comes back, even if reusable.
        #expect(pool.release(c) == .close(c.id))
        // One of the new generation goes idle as usual.
        #expect(pool.release(d) == .none)
        #expect(pool.machine.idle.map(\.connection.id) == [d.id])
        #expect(pool.leaderChanged() == [d.id])
        #expect(pool.machine.generation == 3 && pool.machine.total == 0)
    }

    @Test("an old-generation connection coming back is closed and a waiter gets .create of the new generation")
    func oldGenerationReleaseWithWaiter() {
        let pool = PoolHarness(maximum: 1)
        let a = pool.leaseNew(0)
        #expect(pool.lease(1) == .wait)
        #expect(pool.lease(2) == .wait)
        #expect(pool.leaderChanged().isEmpty)
        #expect(pool.release(a) == .resume(waiter: 1, outcome: .create(generation: 2), closing: a.id))
        #expect(pool.machine.waiters == [2] && pool.machine.creating == 1 && pool.machine.total == 1)
        pool.created()
        let b = pool.newConnection()
        #expect(pool.release(b) == .resume(waiter: 2, outcome: .connection(b.id), closing: nil))
    }

    @Test("a slot reserved before the leader changed yields an old-generation connection, closed on release")
    func slotReservedBeforeLeaderChange() {
        let pool = PoolHarness(maximum: 1)
        #expect(pool.lease(0) == .create(generation: 1))
        #expect(pool.leaderChanged().isEmpty)
        pool.created()
        let a = pool.newConnection(generation: 1)
        #expect(pool.release(a) == .close(a.id))
        #expect(pool.machine.total == 0)
    }

    // MARK: - Cancellation

    @Test("cancelWaiter is true once, false the second time and for unknown waiters")
    func cancelWaiterOnce() {
        let pool = PoolHarness(maximum: 1)
        _ = pool.leaseNew(0)
        #expect(pool.lease(1) == .wait)
        #expect(pool.cancelWaiter(1))
        #expect(!pool.cancelWaiter(1))
        #expect(!pool.cancelWaiter(42))
        #expect(!pool.cancelWaiter(0), "a caller that got a slot is not a waiter")
        #expect(pool.machine.waiters.isEmpty)
    }

    @Test("a cancelled waiter is never resumed, by a release or by a failed creation")
    func cancelledWaiterNeverResumed() {
        let pool = PoolHarness(maximum: 1)
        let a = pool.leaseNew(0)
        for waiter in 1...4 { #expect(pool.lease(waiter) == .wait) }
        #expect(pool.cancelWaiter(1))
        #expect(pool.cancelWaiter(3))
        #expect(pool.machine.waiters == [2, 4])
        #expect(pool.release(a) == .resume(waiter: 2, outcome: .connection(a.id), closing: nil))
        #expect(pool.release(a, reusable: false) == .resume(waiter: 4, outcome: .create(generation: 1), closing: a.id))
        #expect(pool.creationFailed() == .none)
        #expect(pool.machine.total == 0 && pool.machine.waiters.isEmpty)
        #expect(!pool.cancelWaiter(2), "a served waiter can no longer be cancelled")
    }

    @Test("a waiter cancelled after it was served is not found: the driver must give back what it was handed")
    func cancelAfterServed() {
        let pool = PoolHarness(maximum: 1)
        #expect(pool.lease(0) == .create(generation: 1))
        #expect(pool.lease(1) == .wait)
        #expect(pool.creationFailed() == .resume(waiter: 1, outcome: .create(generation: 1), closing: nil))
        #expect(!pool.cancelWaiter(1))
        // ConnectionPool.wait gives a late `.create` back as a failed creation: the slot is freed.
        #expect(pool.creationFailed() == .none)
        #expect(pool.machine.total == 0)
    }

    // MARK: - Expiry

    @Test("expire closes idle connections past idleTimeout, oldest first, but keeps the minimum")
    func expireKeepsMinimum() {
        let pool = PoolHarness(minimum: 1, maximum: 4, idleTimeout: .seconds(30))
        let a = pool.leaseNew(0)
        let b = pool.leaseNew(1)
        let c = pool.leaseNew(2)
        #expect(pool.release(a, at: .seconds(0)) == .none)
        #expect(pool.release(b, at: .seconds(10)) == .none)
        #expect(pool.release(c, at: .seconds(20)) == .none)
        #expect(pool.expire(at: .seconds(29)).isEmpty, "nothing has been idle 30 s yet")
        #expect(pool.expire(at: .seconds(31)) == [a.id], "only a has been idle 30 s")
        // At 50 s b (40 s) and c (exactly 30 s) are both past the timeout, but the minimum keeps c.
        #expect(pool.expire(at: .seconds(50)) == [b.id])
        #expect(pool.machine.idle.map(\.connection.id) == [c.id] && pool.machine.total == 1)
        #expect(pool.expire(at: .seconds(1000)).isEmpty)
        #expect(pool.machine.total == 1)
    }

    @Test("expire counts leased connections toward the minimum and treats exactly idleTimeout as expired")
    func expireCountsLeased() {
        let pool = PoolHarness(minimum: 1, maximum: 2, idleTimeout: .seconds(30))
        let a = pool.leaseNew(0)
        _ = pool.leaseNew(1)
        #expect(pool.release(a, at: .seconds(5)) == .none)
        #expect(pool.expire(at: .seconds(35)) == [a.id])
        #expect(pool.machine.idle.isEmpty && pool.machine.leased == 1 && pool.machine.total == 1)
    }

    @Test("expire with minimum 0 closes every idle connection past the timeout, and none that is fresh")
    func expireMinimumZero() {
        let pool = PoolHarness(minimum: 0, maximum: 3, idleTimeout: .seconds(30))
        let a = pool.leaseNew(0)
        let b = pool.leaseNew(1)
        let c = pool.leaseNew(2)
        #expect(pool.release(a, at: .seconds(1)) == .none)
        #expect(pool.release(b, at: .seconds(2)) == .none)
        #expect(pool.release(c, at: .seconds(40)) == .none)
        #expect(pool.expire(at: .seconds(45)) == [a.id, b.id])
        #expect(pool.machine.idle.map(\.connection.id) == [c.id])
        #expect(pool.expire(at: .seconds(70)) == [c.id])
        #expect(pool.machine.total == 0)
    }

    // MARK: - Refill

    @Test("refill reserves the missing slots; refilled connections go idle; a second refill asks for none")
    func refillToMinimum() {
        let pool = PoolHarness(minimum: 2, maximum: 4)
        let (count, generation) = pool.refill()
        #expect(count == 2 && generation == 1)
        #expect(pool.machine.creating == 2 && pool.machine.total == 2)
        #expect(pool.refill().count == 0, "the reserved slots count toward the minimum")
        let a = pool.newConnection(generation: generation)
        let b = pool.newConnection(generation: generation)
        #expect(pool.refilled(a, at: .seconds(1)) == .none)
        #expect(pool.refilled(b, at: .seconds(2)) == .none)
        #expect(pool.machine.idle.map(\.connection.id) == [a.id, b.id])
        #expect(pool.machine.creating == 0 && pool.machine.leased == 0 && pool.machine.total == 2)
        #expect(pool.refill().count == 0)
        // After a leader change the idle ones are gone: refill asks for two of the new generation.
        #expect(pool.leaderChanged() == [a.id, b.id])
        let again = pool.refill()
        #expect(again.count == 2 && again.generation == 2)
    }

    @Test("a refilled connection goes straight to the first waiter")
    func refilledHandsToWaiter() {
        let pool = PoolHarness(minimum: 1, maximum: 1)
        #expect(pool.refill().count == 1)
        #expect(pool.lease(0) == .wait, "the refill slot takes the only place")
        let a = pool.newConnection()
        #expect(pool.refilled(a) == .resume(waiter: 0, outcome: .connection(a.id), closing: nil))
        #expect(pool.machine.leased == 1 && pool.machine.creating == 0 && pool.machine.idle.isEmpty)
    }

    @Test("a refill that fails frees its slot, or hands it to a waiter")
    func refillFails() {
        let pool = PoolHarness(minimum: 1, maximum: 1)
        #expect(pool.refill().count == 1)
        #expect(pool.creationFailed() == .none)
        #expect(pool.machine.total == 0)
        #expect(pool.refill().count == 1)
        #expect(pool.lease(0) == .wait)
        #expect(pool.creationFailed() == .resume(waiter: 0, outcome: .create(generation: 1), closing: nil))
    }

    @Test("a refilled connection of an old generation is closed (its slot offered to a waiter)")
    func refilledOldGeneration() {
        let pool = PoolHarness(minimum: 1, maximum: 1)
        let (_, generation) = pool.refill()
        #expect(pool.leaderChanged().isEmpty)
        let a = pool.newConnection(generation: generation)
        #expect(pool.refilled(a) == .close(a.id))
        #expect(pool.machine.total == 0)
        let (_, generation2) = pool.refill()
        #expect(generation2 == 2)
        #expect(pool.lease(0) == .wait)
        #expect(pool.leaderChanged().isEmpty)
        let b = pool.newConnection(generation: generation2)
        #expect(pool.refilled(b) == .resume(waiter: 0, outcome: .create(generation: 3), closing: b.id))
    }

    @Test("refill never reserves more than the maximum, even when the minimum is above it")
    func refillMinimumAboveMaximum() {
        // ConnectionPool passes minimumConnections unchecked: nothing stops minimum > maximum.
        let pool = PoolHarness(minimum: 5, maximum: 2)
        #expect(pool.refill().count == 2)
        #expect(pool.machine.total == 2)
        #expect(pool.lease(0) == .wait)
    }

    // MARK: - Shutdown

    @Test("shutDown returns the waiters in order and the idle connections; every later call refuses")
    func shutDownThenEverythingRefuses() {
        let pool = PoolHarness(maximum: 3)
        let a = pool.leaseNew(0)
        let b = pool.leaseNew(1)
        #expect(pool.lease(2) == .create(generation: 1))  // still creating when the pool shuts down
        #expect(pool.lease(3) == .wait)
        #expect(pool.lease(4) == .wait)
        #expect(pool.release(a) == .resume(waiter: 3, outcome: .connection(a.id), closing: nil))
        #expect(pool.lease(5) == .wait)
        #expect(pool.machine.total == 3 && pool.machine.waiters == [4, 5])
        let result = pool.shutDown()
        #expect(result.waiters == [4, 5])
        #expect(result.idle.isEmpty)
        #expect(pool.machine.isShutDown)

        #expect(pool.lease(10) == .fail(.poolClosed))
        // Leased connections are closed when they come back, reusable or not; nothing is handed over.
        #expect(pool.release(a) == .close(a.id))
        #expect(pool.release(b, reusable: false) == .close(b.id))
        // The slot that was being created succeeds: the connection is closed on release (a failure: below).
        pool.created()
        let d = pool.newConnection()
        #expect(pool.release(d) == .close(d.id))
        #expect(pool.machine.total == 0 && pool.machine.leased == 0 && pool.machine.creating == 0)
        #expect(!pool.cancelWaiter(4), "shutDown removed the waiters")
        #expect(pool.refill().count == 0)
        #expect(pool.expire(at: .seconds(1000)).isEmpty)
        #expect(pool.leaderChanged().isEmpty)
        #expect(pool.lease(11) == .fail(.poolClosed))
        #expect(pool.shutDown() == ([], []))
    }

    @Test("shutDown hands back idle connections; in-flight creations and refills are closed or freed")
    func shutDownWithIdleAndInFlight() {
        let pool = PoolHarness(minimum: 1, maximum: 4)
        let a = pool.leaseNew(0)
        let b = pool.leaseNew(1)
        #expect(pool.lease(2) == .create(generation: 1))  // still creating at shutdown
        #expect(pool.release(a, at: .seconds(1)) == .none)
        #expect(pool.release(b, at: .seconds(2)) == .none)
        #expect(pool.lease(3, at: .seconds(2)) == .use(b.id, idleFor: .zero))
        #expect(pool.machine.idle.count == 1 && pool.machine.leased == 1 && pool.machine.creating == 1)
        let result = pool.shutDown()
        #expect(result.waiters.isEmpty && result.idle == [a.id])
        #expect(pool.creationFailed() == .none)
        #expect(pool.release(b) == .close(b.id))
        #expect(pool.machine.total == 0)
        // A refill that was reserved before: closed when it arrives.
        let pool2 = PoolHarness(minimum: 1, maximum: 1)
        #expect(pool2.refill().count == 1)
        #expect(pool2.shutDown() == ([], []))
        let d = pool2.newConnection()
        #expect(pool2.refilled(d) == .close(d.id))
        #expect(pool2.machine.total == 0)
    }

    // MARK: - Hostile orders

    @Test("a release of a connection never leased closes it and counts nothing")
    func releaseOfStranger() {
        let pool = PoolHarness(maximum: 1)
        let stranger = pool.newConnection()
        #expect(pool.release(stranger) == .close(stranger.id))
        #expect(pool.machine.leased == 0 && pool.machine.total == 0 && pool.machine.idle.isEmpty)
        // The pool still has its one slot, and only one.
        let a = pool.leaseNew(0)
        #expect(pool.lease(1) == .wait)
        #expect(pool.release(a) == .resume(waiter: 1, outcome: .connection(a.id), closing: nil))
    }

    @Test("a second release of an idle connection is ignored: no negative count, no connection idle twice")
    func doubleRelease() {
        let pool = PoolHarness(maximum: 2)
        let a = pool.leaseNew(0)
        let b = pool.leaseNew(1)
        #expect(pool.release(a) == .none)
        #expect(pool.release(a) == .none)
        #expect(pool.machine.leased == 1 && pool.machine.idle.count == 1 && pool.machine.total == 2)
        #expect(pool.release(b) == .none)
        #expect(pool.release(b) == .none)
        #expect(pool.machine.leased == 0 && pool.machine.idle.count == 2 && pool.machine.total == 2)
        #expect(pool.lease(2) == .use(b.id, idleFor: .zero))
        #expect(pool.lease(3) == .use(a.id, idleFor: .zero))
        #expect(pool.lease(4) == .wait, "the maximum still holds")
    }

    @Test("creationFailed without a create changes nothing and hands no slot to a waiter")
    func creationFailedWithoutCreate() {
        let pool = PoolHarness(maximum: 1)
        #expect(pool.creationFailed() == .none)
        #expect(pool.machine.creating == 0 && pool.machine.total == 0)
        _ = pool.leaseNew(0)
        #expect(pool.lease(1) == .wait)
        // The pool is at its maximum: a spurious failure must not give the waiter a second slot.
        #expect(pool.creationFailed() == .none)
        #expect(pool.machine.creating == 0 && pool.machine.total == 1 && pool.machine.waiters == [1])
    }

    @Test("a second shutDown returns nothing and the pool stays closed")
    func secondShutDown() {
        let pool = PoolHarness(maximum: 2)
        let a = pool.leaseNew(0)
        _ = pool.leaseNew(1)
        #expect(pool.lease(2) == .wait)
        #expect(pool.release(a) == .resume(waiter: 2, outcome: .connection(a.id), closing: nil))
        #expect(pool.release(a) == .none)
        #expect(pool.shutDown() == ([], [a.id]))
        #expect(pool.shutDown() == ([], []))
        #expect(pool.machine.isShutDown)
        #expect(pool.lease(3) == .fail(.poolClosed))
    }

    // MARK: - Random walks

    @Test(
        "random walks of valid calls keep the invariants, serve waiters in order and drain to zero",
        arguments: 1...12 as ClosedRange<UInt64>)
    func randomWalk(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        let maximum = Int(1 + seed % 3)
        let pool = PoolHarness(
            minimum: Int(seed % 2), maximum: maximum, maximumWaiters: 3, idleTimeout: .seconds(30))
        var leased: [PoolTestConnection] = []
        var slots: [UInt64] = []  // reserved slots (lease, hand-over, refill) not yet resolved, by generation
        var queued: [Int] = []
        var nextWaiter = 0
        var clock = Duration.zero

        func apply(_ result: ReleaseResult, releasing: PoolTestConnection?) {
            switch result {
            case .none: break
            case .close(let id): #expect(id == releasing?.id)
            case .resume(let waiter, let outcome, let closing):
                #expect(closing == nil || closing == releasing?.id)
                #expect(queued.first == waiter, "waiters are served first-come first-served")
                queued.removeAll { $0 == waiter }
                switch outcome {
                case .connection(let id):
                    if let connection = pool.connection(id) { leased.append(connection) }
                case .create(let generation): slots.append(generation)
                case .closed: Issue.record("only shutDown closes waiters")
                }
            }
        }

        for _ in 0..<2000 {
            clock += .seconds(Int(random.next() % 20))
            switch random.next() % 9 {
            case 0, 1:
                let waiter = nextWaiter
                nextWaiter += 1
                switch pool.lease(waiter, at: clock) {
                case .use(let id, _):
                    if let connection = pool.connection(id) { leased.append(connection) }
                case .create(let generation): slots.append(generation)
                case .wait: queued.append(waiter)
                case .fail(let code):
                    #expect(code == .poolExhausted && queued.count == 3)
                }
            case 2 where !slots.isEmpty:
                let generation = slots.removeFirst()
                if random.next() % 4 != 0 {
                    pool.created()
                    leased.append(pool.newConnection(generation: generation))
                } else {
                    apply(pool.creationFailed(), releasing: nil)
                }
            case 3 where !leased.isEmpty, 4 where !leased.isEmpty:
                let connection = leased.remove(at: Int(random.next() % UInt64(leased.count)))
                apply(pool.release(connection, reusable: random.next() % 4 != 0, at: clock), releasing: connection)
            case 5 where !queued.isEmpty:
                let waiter = queued.remove(at: Int(random.next() % UInt64(queued.count)))
                #expect(pool.cancelWaiter(waiter))
                #expect(!pool.cancelWaiter(waiter))
            case 6 where random.next() % 4 == 0:
                _ = pool.leaderChanged()
            case 7:
                _ = pool.expire(at: clock)
                let (count, generation) = pool.refill()
                for _ in 0..<count {
                    // Resolve refills at once, in the same step or failing.
                    if random.next() % 3 != 0 {
                        let connection = pool.newConnection(generation: generation)
                        // refilled counts it leased and releases it: it may go to a waiter.
                        apply(pool.refilled(connection, at: clock), releasing: connection)
                    } else {
                        apply(pool.creationFailed(), releasing: nil)
                    }
                }
            default: break
            }
            #expect(pool.machine.leased == leased.count)
            #expect(pool.machine.creating == slots.count)
            #expect(pool.machine.waiters == queued)
        }

        let (waiters, _) = pool.shutDown()
        #expect(waiters == queued)
        for _ in slots {
            if random.next() % 2 == 0 {
                pool.created()
                let connection = pool.newConnection()
                #expect(pool.release(connection) == .close(connection.id))
            } else {
                #expect(pool.creationFailed() == .none)
            }
        }
        for connection in leased { #expect(pool.release(connection) == .close(connection.id)) }
        #expect(pool.machine.total == 0 && pool.machine.leased == 0 && pool.machine.creating == 0)
    }
}
