import Dqlite
import DqliteTestSupport
import DqliteWire
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// What one run of a scenario reports back.
struct ScenarioOutcome: Sendable {
    var faults = 0
    var failover: Duration?
    var failoverBudget: Duration?
    /// Scheduler stalls measured while a budget ran (added to it).
    var stall: Duration = .zero
    /// When the servers had a new leader (polled directly, not through the client), if measured.
    var election: Duration?
    var notes: [String] = []
    var problems: [String] = []

    /// Records a failed assertion unless `condition` holds.
    mutating func expect(_ condition: Bool, _ message: @autoclosure () -> String) {
        if !condition { problems.append(message()) }
    }
}

/// When one run of a scenario happened.
struct ScenarioWindow: Sendable, Codable {
    var code: String
    var round: Int
    var from: Double
    var to: Double
}

/// A scenario of the schedule (field-notes §2.5).
struct Scenario: Sendable {
    var code: String
    var title: String
    var asserts: String
    var run: @Sendable (FaultRun) async throws -> ScenarioOutcome
}

/// The state of one fault-injection run: the cluster, the workload client and workers, the history, and the
/// helpers scenarios share (finding the leader, timing failover, healing).
final class FaultRun: Sendable {
    let cluster: NodeCluster
    let client: DqliteClient
    let settings: ClientSettings
    let history: History
    let gate: Gate
    let workloads: Workloads
    let stalls = StallMonitor()
    private let round = Mutex(0)
    private let scenarioWindows = Mutex<[ScenarioWindow]>([])

    /// When each scenario ran (seconds since the start), for the failure dump.
    var windows: [ScenarioWindow] {
        get { scenarioWindows.withLock { $0 } }
        set { scenarioWindows.withLock { $0 = newValue } }
    }

    init(cluster: NodeCluster, client: DqliteClient, settings: ClientSettings, history: History) {
        self.cluster = cluster
        self.client = client
        self.settings = settings
        self.history = history
        self.gate = Gate()
        self.workloads = Workloads(client: client, history: history, gate: gate, settings: settings)
    }

    /// The schedule round (0 for the first pass).
    var currentRound: Int {
        get { round.withLock { $0 } }
        set { round.withLock { $0 = newValue } }
    }

    /// Cluster administration over every slot's proxy (a fresh node store each time).
    var admin: DqliteClusterAdmin {
        let discovery = DqliteLeaderDiscovery.Configuration(
            connection: .init(connectTimeout: .seconds(1), defaultCallTimeout: .seconds(5)),
            probeTimeout: .seconds(1), timeout: .seconds(10), backoffBase: .milliseconds(25),
            backoffCap: .milliseconds(250))
        let seeds = cluster.addresses.compactMap { try? DqliteNodeAddress($0) }
        return DqliteClusterAdmin(
            seeds: seeds,
            configuration: .init(discovery: discovery, requestTimeout: .seconds(10), confirmationTimeout: .seconds(20)))
    }

    /// Moves leadership to `id` (any other voter if nil), retrying while raft refuses (a target still
    /// catching up); does nothing if `id` already leads. Returns the new leader.
    @discardableResult
    func transferLeadership(to id: UInt64?) async throws -> DqliteNodeInfo {
        var lastError: (any Error)?
        for _ in 0..<8 {
            if let id, await cluster.leader() == id, let slot = try? cluster.slot(of: id) {
                return DqliteNodeInfo(id: id, address: try DqliteNodeAddress(slot.address), role: .voter)
            }
            do {
                return try await admin.transferLeadership(to: id)
            } catch {
                lastError = error
                try await Task.sleep(for: .milliseconds(300))
            }
        }
        throw lastError ?? FaultTestFailure("leadership transfer to \(id.map { "\($0)" } ?? "any voter") failed")
    }

    /// Checks a measured recovery (nil: it never happened) against `budget` plus the scheduler stalls measured
    /// since `start`, and records it as the scenario's failover.
    func checkRecovery(
        _ measured: Duration?, budget: Duration, since start: ContinuousClock.Instant, _ what: String,
        _ outcome: inout ScenarioOutcome, election: Duration? = nil
    ) {
        let stall = stalls.total(since: start)
        outcome.failover = measured
        outcome.election = election
        if let election { outcome.notes.append("the servers had a new leader after \(election)") }
        outcome.failoverBudget = budget
        outcome.stall = max(outcome.stall, stall)
        guard let measured else {
            outcome.problems.append("\(what) never happened")
            return
        }
        // The budget is 2 × the election timeout + backoff. raft's own election can take longer (split votes
        // restart it after another randomized timeout); the client is then held to the servers' election time
        // + the same backoff, and the report says which bound applied.
        var allowed = budget
        if let election, election + settings.backoffMax > budget {
            allowed = election + settings.backoffMax
            outcome.notes.append(
                "the servers' election took \(election) (over 2 × the election timeout): bound \(allowed)")
        }
        outcome.expect(
            measured <= allowed + stall,
            "\(what) took \(measured) (bound \(allowed), budget \(budget); + \(stall) of measured scheduler stalls"
                + "\(election.map { "; servers' election \($0)" } ?? ""))")
    }

    /// How long after `start` a live node other than `old` confirmed itself as leader (asked directly, every
    /// 10 ms): the servers' part of a failover, to compare with what the client saw.
    func measureElection(since start: ContinuousClock.Instant, replacing old: UInt64) async -> Duration? {
        let clock = ContinuousClock()
        while clock.now - start < .seconds(15) {
            if let leader = await cluster.leader(timeout: .milliseconds(200)), leader != old {
                return clock.now - start
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return nil
    }

    /// What ``killLeader(attempts:_:)`` needs for one try.
    struct KillAttempt<Value: Sendable>: Sendable {
        /// The request at which the leader dies (it is forwarded first; its answer is dropped).
        var matches: @Sendable (_ link: Int, _ request: Request) -> Bool
        /// Requests that must not be sent again once the leader died.
        var resent: @Sendable (_ request: Request) -> Bool
        /// The operation that sends it.
        var operation: @Sendable () async -> OpResult<Value>
    }

    /// How a kill at a request went.
    struct KillOutcome<Value: Sendable>: Sendable {
        var result: OpResult<Value>
        var leader: UInt64
        var killedAt: ContinuousClock.Instant
        /// Matching requests sent after the kill.
        var resends: Int
        /// Tries needed (an operation can end before reaching the request, e.g. SQLITE_BUSY under contention).
        var tries: Int
    }

    /// Kills the leader (`kill -9`, from the proxy) the moment it receives the request an attempt's operation
    /// sends; tries again with a fresh attempt when the operation ends without sending it. Nil if it never did.
    func killLeader<Value: Sendable>(attempts: Int = 5, _ make: () -> KillAttempt<Value>) async throws
        -> KillOutcome<Value>?
    {
        for attempt in 1...attempts {
            let leader = try await stableLeader()
            let pid = try pid(leader)
            let proxy = try cluster.proxy(of: leader)
            let spec = make()
            let killedAt = Shared<ContinuousClock.Instant?>(nil)
            let resends = observeRequests { killedAt.value != nil && spec.resent($0) }
            proxy.arm(
                .init(
                    matches: spec.matches,
                    action: .forwardThen {
                        _ = Glibc.kill(pid, SIGKILL)
                        killedAt.value = ContinuousClock.now
                    }))
            let result = await spec.operation()
            let fired = !proxy.disarm()
            stopObserving()
            if fired, let instant = killedAt.value {
                await cluster.kill(leader)
                return KillOutcome(
                    result: result, leader: leader, killedAt: instant, resends: resends.value, tries: attempt)
            }
        }
        return nil
    }

    /// The leader, once every live node agrees on it.
    func stableLeader() async throws -> UInt64 { try await cluster.waitForStableLeader() }

    /// The process id of a node.
    func pid(_ id: UInt64) throws -> Int32 {
        guard let process = cluster.node(id)?.process, process.isRunning else {
            throw FaultTestFailure("node \(id) does not run")
        }
        return process.pid
    }

    /// A value for a nemesis insert (never used by the workers: they use multiples of 100 plus 0–2).
    func nemesisValue() -> Int64 { workloads.counter.next() * 100 + 50 }

    /// One nemesis insert into the set, recorded as a set operation.
    @discardableResult
    func nemesisInsert(worker: Int = -1) async -> OpResult<DqliteExecResult> {
        await workloads.insert(value: nemesisValue(), worker: worker, process: "nemesis")
    }

    /// Writes until one is acknowledged; returns the time from `start` to the first write sent after `start`
    /// that was acknowledged — the nemesis's or any worker's (a single probe can be held up by lock contention
    /// with the workers) — or nil if none succeeded within `timeout`.
    func firstAcknowledgedWrite(after start: ContinuousClock.Instant, timeout: Duration = .seconds(60)) async
        -> Duration?
    {
        let clock = ContinuousClock()
        let from = history.now() - (clock.now - start).seconds
        while clock.now - start < timeout {
            let result = await nemesisInsert()
            if result.outcome == .ok {
                let probe = clock.now - start
                let earliest = history.all.filter {
                    $0.invoked >= from && $0.outcome == .ok
                        && ($0.workload == .set || $0.workload == .transfer || $0.workload == .idOther)
                }.map { $0.completed - from }.min()
                return earliest.map { min(probe, .milliseconds(Int($0 * 1000))) } ?? probe
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return nil
    }

    /// Counts client requests, on every proxy, that `matching` accepts (until `stopObserving`).
    func observeRequests(_ matching: @escaping @Sendable (Request) -> Bool) -> RequestCount {
        let box = RequestCount()
        for slot in cluster.slots {
            slot.proxy.observe { request in
                if matching(request) { box.add() }
            }
        }
        return box
    }

    func stopObserving() {
        for slot in cluster.slots { slot.proxy.observe(nil) }
    }

    /// Undoes every fault: proxies pass, rules disarmed, paused nodes resumed, stopped members restarted;
    /// then waits for a stable leader and one acknowledged write.
    func heal() async throws {
        stopObserving()
        for slot in cluster.slots {
            slot.proxy.mode = .pass
            slot.proxy.disarm()
        }
        for id in cluster.memberIDs {
            if cluster.node(id)?.paused == true { cluster.resume(id) }
        }
        for id in cluster.memberIDs where cluster.node(id)?.process?.isRunning != true {
            try await cluster.restart(id)
        }
        _ = try await stableLeader()
        guard await firstAcknowledgedWrite(after: ContinuousClock.now, timeout: .seconds(30)) != nil else {
            throw FaultTestFailure("no write succeeded after healing\n\(cluster.logs())")
        }
    }

    /// Operations invoked in a window.
    func operations(since start: Double) -> [Operation] { history.operations(from: start, to: .infinity) }

    /// The SQL parameters of an EXEC_SQL / QUERY_SQL request.
    static func parameters(_ request: Request) -> [WireValue] {
        switch request {
        case .execSQL(let call), .querySQL(let call): return call.parameters
        default: return []
        }
    }
}

/// A shareable counter of observed requests.
final class RequestCount: Sendable {
    private let count = Mutex<Int>(0)
    func add() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}
