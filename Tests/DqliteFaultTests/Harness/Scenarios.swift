import Dqlite
import DqliteTestSupport
import DqliteWire
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A value shared with a proxy callback.
final class Shared<Value: Sendable>: Sendable {
    private let storage: Mutex<Value>
    init(_ value: Value) { storage = Mutex(value) }
    var value: Value {
        get { storage.withLock { $0 } }
        set { storage.withLock { $0 = newValue } }
    }

    func update(_ body: (inout Value) -> Void) { storage.withLock { body(&$0) } }
}

/// Matching requests in the proxy.
enum Match {
    /// EXEC_SQL / QUERY_SQL whose SQL starts with `prefix` and whose parameter `index` is `value`.
    static func sql(_ request: Request, prefix: String, parameter index: Int, is value: Int64) -> Bool {
        guard let sql = FaultProxy.sql(of: request), sql.hasPrefix(prefix) else { return false }
        let parameters = FaultRun.parameters(request)
        return parameters.indices.contains(index) && parameters[index] == .integer(value)
    }

    static func isCommit(_ request: Request) -> Bool {
        guard case .execSQL(let call) = request else { return false }
        return call.sql == "COMMIT"
    }
}

/// The schedule: field-notes §2.5 F1–F12, F14, F15 (F13 is the hostile-server test; F16, disk full, needs a
/// tmpfs and is not run).
enum Scenarios {
    static let all: [Scenario] = [
        f1, f2Autocommit, f2Commit, f3, f4, f5, f6, f6b, f7, f8, f9, f10, f11, f12, f14, f15,
    ]

    static func describe(_ error: (any Error)?) -> String { error.map { "\($0)" } ?? "no error" }

    /// SQLITE_BUSY and its extended codes: lock contention between the workers, not an effect of a fault.
    static func isContention(_ operation: Operation) -> Bool {
        guard let error = operation.error, error.hasPrefix("server("), let code = Int(error.dropFirst(7).dropLast())
        else { return false }
        return code & 0xFF == 5
    }

    /// Calls that failed for another reason than contention.
    static func faultFailures(_ operations: [Operation]) -> [Operation] {
        operations.filter { $0.outcome != .ok && !isContention($0) }
    }

    static func isWrite(_ operation: Operation) -> Bool {
        operation.workload == .set || operation.workload == .transfer || operation.workload == .idOther
    }

    // MARK: - Process faults

    static let f1 = Scenario(
        code: "F1", title: "kill -9 the leader while idle",
        asserts:
            "The next read succeeds with no error (the SDK rediscovers and retries it); the first write is "
            + "acknowledged within the failover budget."
    ) { run in
        var outcome = ScenarioOutcome()
        outcome.failoverBudget = run.settings.failoverBudget
        await run.gate.pause(timeout: run.settings.autocommitDeadline)
        defer { run.gate.resume() }
        let leader = try await run.stableLeader()
        for _ in 0..<3 { await run.nemesisInsert() }  // idle pooled connections to the leader
        let start = ContinuousClock.now
        await run.cluster.kill(leader)
        outcome.faults += 1
        async let election = run.measureElection(since: start, replacing: leader)
        let read = await run.history.run(
            .read, process: "nemesis", key: 0, deadline: run.settings.autocommitDeadline
        ) { [client = run.client] in
            try await client.query("SELECT count(*) FROM set_items").decode(Int64.self)
        }
        outcome.expect(read.outcome == .ok, "the first read after the kill failed: \(describe(read.error))")
        let failover = await run.firstAcknowledgedWrite(after: start)
        run.checkRecovery(
            failover, budget: run.settings.failoverBudget, since: start, "failover", &outcome, election: await election)
        return outcome
    }

    static let f2Autocommit = Scenario(
        code: "F2a", title: "kill -9 the leader during an autocommit INSERT",
        asserts:
            "The INSERT the node received just before dying is ok or ambiguousCommit (info) — never fail — and is "
            + "never sent again after the kill; failover within budget."
    ) { run in
        var outcome = ScenarioOutcome()
        let prefix = "INSERT INTO set_items"
        guard
            let kill = try await run.killLeader({
                let value = run.nemesisValue()
                return FaultRun.KillAttempt(
                    matches: { _, request in Match.sql(request, prefix: prefix, parameter: 0, is: value) },
                    resent: { Match.sql($0, prefix: prefix, parameter: 0, is: value) },
                    operation: { await run.workloads.insert(value: value, worker: -2, process: "nemesis") })
            })
        else {
            outcome.problems.append("no INSERT reached the leader in 5 tries")
            return outcome
        }
        outcome.faults += 1
        let insert = kill.result
        outcome.expect(insert.outcome != .fail, "the INSERT was reported as failed: \(describe(insert.error))")
        if insert.outcome == .info {
            outcome.expect(
                insert.dqliteError?.code == .ambiguousCommit, "expected ambiguousCommit, got \(describe(insert.error))")
        }
        outcome.expect(kill.resends == 0, "the INSERT was sent again \(kill.resends) times after the kill")
        outcome.notes.append("insert: \(insert.outcome) \(insert.dqliteError?.code.name ?? "") (try \(kill.tries))")
        async let election = run.measureElection(since: kill.killedAt, replacing: kill.leader)
        let failover = await run.firstAcknowledgedWrite(after: kill.killedAt)
        run.checkRecovery(
            failover, budget: run.settings.failoverBudget, since: kill.killedAt, "failover", &outcome,
            election: await election)
        return outcome
    }

    static let f2Commit = Scenario(
        code: "F2b", title: "kill -9 the leader during COMMIT",
        asserts:
            "The transfer whose COMMIT the node received is ok or ambiguousCommit — never fail — and its closure is "
            + "not re-run after the lost COMMIT (its INSERT is never sent again)."
    ) { run in
        var outcome = ScenarioOutcome()
        let prefix = "INSERT INTO transfers"
        guard
            let kill = try await run.killLeader({
                let tid = run.workloads.counter.next()
                let connection = Shared<Int?>(nil)
                return FaultRun.KillAttempt(
                    matches: { link, request in
                        if Match.sql(request, prefix: prefix, parameter: 0, is: tid) { connection.value = link }
                        return connection.value == link && Match.isCommit(request)
                    },
                    resent: { Match.sql($0, prefix: prefix, parameter: 0, is: tid) },
                    operation: { await run.workloads.transfer(tid: tid, process: "nemesis", amount: 12) })
            })
        else {
            outcome.problems.append("no COMMIT reached the leader in 5 tries")
            return outcome
        }
        outcome.faults += 1
        let transfer = kill.result
        outcome.expect(transfer.outcome != .fail, "the transfer was reported as failed: \(describe(transfer.error))")
        if transfer.outcome == .info {
            outcome.expect(
                transfer.dqliteError?.code == .ambiguousCommit,
                "expected ambiguousCommit, got \(describe(transfer.error))")
        }
        outcome.expect(
            kill.resends == 0, "the transaction was re-run after its COMMIT was lost (\(kill.resends) INSERTs)")
        outcome.notes.append(
            "transfer: \(transfer.outcome) \(transfer.dqliteError?.code.name ?? "") (try \(kill.tries))")
        async let election = run.measureElection(since: kill.killedAt, replacing: kill.leader)
        let failover = await run.firstAcknowledgedWrite(after: kill.killedAt)
        run.checkRecovery(
            failover, budget: run.settings.failoverBudget, since: kill.killedAt, "failover", &outcome,
            election: await election)
        return outcome
    }

    static let f3 = Scenario(
        code: "F3", title: "kill -9 the leader inside an open transaction",
        asserts:
            "The transaction is aborted (transactionAborted, never info) and, with retry: .onLeadershipChange(), "
            + "re-run to success on the new leader; nothing of the first run is visible (bank invariants)."
    ) { run in
        var outcome = ScenarioOutcome()
        let amount: Int64 = 13
        guard
            let kill = try await run.killLeader({
                let tid = run.workloads.counter.next()
                return FaultRun.KillAttempt(
                    matches: { _, request in
                        Match.sql(request, prefix: "UPDATE accounts SET balance = balance -", parameter: 0, is: amount)
                    },
                    // The first run dies before its INSERT: an INSERT after the kill is the re-run's.
                    resent: { Match.sql($0, prefix: "INSERT INTO transfers", parameter: 0, is: tid) },
                    operation: { await run.workloads.transfer(tid: tid, process: "nemesis", amount: amount) })
            })
        else {
            outcome.problems.append("no transaction reached the leader in 5 tries")
            return outcome
        }
        outcome.faults += 1
        let transfer = kill.result
        outcome.expect(
            transfer.outcome != .info, "the open transaction ended indeterminate: \(describe(transfer.error))")
        if transfer.outcome == .fail {
            outcome.expect(
                transfer.dqliteError?.code == .transactionAborted,
                "expected transactionAborted, got \(describe(transfer.error))")
        }
        outcome.expect(
            kill.resends == (transfer.outcome == .ok ? 1 : 0),
            "the INSERT was sent \(kill.resends) times after the kill for a transfer that ended \(transfer.outcome)")
        outcome.notes.append(
            "transfer: \(transfer.outcome) \(transfer.dqliteError?.code.name ?? "") (try \(kill.tries))")
        async let election = run.measureElection(since: kill.killedAt, replacing: kill.leader)
        let failover = await run.firstAcknowledgedWrite(after: kill.killedAt)
        run.checkRecovery(
            failover, budget: run.settings.failoverBudget, since: kill.killedAt, "failover", &outcome,
            election: await election)
        return outcome
    }

    static let f4 = Scenario(
        code: "F4", title: "SIGTERM the leader (graceful handover)",
        asserts:
            "The node hands leadership over before exiting; reads in the window never fail (NOT_LEADER is retried); "
            + "writes are acknowledged again within the failover budget."
    ) { run in
        var outcome = ScenarioOutcome()
        outcome.failoverBudget = run.settings.failoverBudget
        let leader = try await run.stableLeader()
        let from = run.history.now()
        let start = ContinuousClock.now
        async let election = run.measureElection(since: start, replacing: leader)
        let output = await run.cluster.terminate(leader)
        outcome.faults += 1
        outcome.expect(output.contains("HANDOVER"), "no HANDOVER line in the node's output")
        let failover = await run.firstAcknowledgedWrite(after: start)
        run.checkRecovery(
            failover, budget: run.settings.failoverBudget, since: start, "failover", &outcome, election: await election)
        try await Task.sleep(for: .milliseconds(500))
        let reads = run.operations(since: from).filter { $0.workload == .read || $0.workload == .bankRead }
        let failed = reads.filter { $0.outcome != .ok }
        outcome.expect(
            failed.isEmpty,
            "\(failed.count) of \(reads.count) reads failed during the handover: \(failed.prefix(3).map { $0.error ?? "?" })"
        )
        return outcome
    }

    static let f5 = Scenario(
        code: "F5", title: "SIGSTOP the leader past the election timeout, then SIGCONT",
        asserts:
            "Calls stuck on the paused leader return by their deadline (no hang); a new leader takes writes "
            + "within call timeout + probe timeout + failover budget; after SIGCONT every write succeeds (busy aside)."
    ) { run in
        var outcome = ScenarioOutcome()
        let budget = run.settings.callTimeout + run.settings.probeTimeout + run.settings.failoverBudget
        outcome.failoverBudget = budget
        let leader = try await run.stableLeader()
        let hold = max(ClientSettings.electionTimeoutMax * 3, run.settings.callTimeout + .seconds(1))
        let start = ContinuousClock.now
        run.cluster.pause(leader)
        outcome.faults += 1
        let failover = await run.firstAcknowledgedWrite(after: start)
        run.checkRecovery(failover, budget: budget, since: start, "failover", &outcome)
        let elapsed = ContinuousClock.now - start
        if elapsed < hold { try await Task.sleep(for: hold - elapsed) }
        run.cluster.resume(leader)
        outcome.notes.append("paused \(ContinuousClock.now - start)")
        try await Task.sleep(for: .milliseconds(300))
        let after = run.history.now()
        for _ in 0..<10 { await run.nemesisInsert() }
        let failures = faultFailures(
            run.history.operations(from: after, to: .infinity).filter { $0.process == "nemesis" })
        outcome.expect(
            failures.isEmpty, "writes failed after SIGCONT: \(failures.prefix(3).map { $0.message ?? "?" })")
        return outcome
    }

    static let f6 = Scenario(
        code: "F6", title: "SIGSTOP one follower",
        asserts:
            "No client-visible error while one follower of three is stopped (SQLITE_BUSY from contention between "
            + "the workers aside). A window in which the leader changed anyway (a node starved of CPU past the "
            + "election timeout) is noted and re-run, up to three times."
    ) { run in
        var outcome = ScenarioOutcome()
        for attempt in 1...3 {
            let leader = try await run.stableLeader()
            guard let follower = run.cluster.followers(of: leader).first else {
                throw FaultTestFailure("no follower")
            }
            let from = run.history.now()
            let start = ContinuousClock.now
            run.cluster.pause(follower)
            outcome.faults += 1
            try await Task.sleep(for: .seconds(3))
            let to = run.history.now()
            let leaderAfter = await run.cluster.leader()
            run.cluster.resume(follower)
            try await Task.sleep(for: .milliseconds(500))
            let window = run.history.operations(from: from, to: to)
            let bad = faultFailures(window)
            if leaderAfter != leader && attempt < 3 {
                outcome.notes.append(
                    "attempt \(attempt): leadership moved from \(leader) to \(leaderAfter.map { "\($0)" } ?? "none") "
                        + "(\(run.stalls.total(since: start)) of scheduler stalls); re-run")
                _ = try await run.stableLeader()
                continue
            }
            outcome.expect(!window.isEmpty, "no operation ran while the follower was stopped")
            outcome.expect(
                bad.isEmpty,
                "\(bad.count) of \(window.count) operations failed: "
                    + "\(bad.prefix(3).map { "\($0.process) \($0.error ?? "?")" })")
            outcome.notes.append(
                "\(window.count) calls, \(window.filter(isContention).count) refused as busy (contention between workers)"
            )
            break
        }
        return outcome
    }

    static let f6b = Scenario(
        code: "F6b", title: "SIGSTOP two followers (no quorum), then SIGCONT",
        asserts:
            "No write is acknowledged without a quorum; every call returns by its deadline; writes resume within "
            + "call timeout + failover budget of SIGCONT."
    ) { run in
        var outcome = ScenarioOutcome()
        let budget = run.settings.callTimeout + run.settings.failoverBudget
        outcome.failoverBudget = budget
        let leader = try await run.stableLeader()
        let followers = run.cluster.followers(of: leader)
        guard followers.count >= 2 else { throw FaultTestFailure("fewer than two followers") }
        let before = await run.cluster.describe()
        let from = run.history.now()
        for follower in followers { run.cluster.pause(follower) }
        outcome.faults += followers.count
        try await Task.sleep(for: .milliseconds(50))
        let states = followers.map { id in
            "\(id): \(NodeCluster.processState(run.cluster.node(id)?.process?.pid ?? 0))"
        }
        try await Task.sleep(for: run.settings.callTimeout + .seconds(2))
        let to = run.history.now()
        let acknowledged = run.history.operations(from: from + 0.05, to: to).filter {
            isWrite($0) && $0.outcome == .ok && $0.completed < to
        }
        if !acknowledged.isEmpty {
            let during = await run.cluster.describe()
            let details = acknowledged.prefix(5).map {
                "\($0.process) \($0.workload.rawValue) \($0.key) invoked \($0.invoked - from) s completed "
                    + "\($0.completed - from) s after the pause"
            }
            outcome.problems.append(
                "\(acknowledged.count) writes were acknowledged with followers \(followers) stopped "
                    + "(process states 50 ms after SIGSTOP: \(states)): \(details)\nbefore:\n\(before)\nduring:\n\(during)"
            )
        }
        let resumed = ContinuousClock.now
        for follower in followers { run.cluster.resume(follower) }
        let recovery = await run.firstAcknowledgedWrite(after: resumed)
        run.checkRecovery(recovery, budget: budget, since: resumed, "recovery after SIGCONT", &outcome)
        return outcome
    }

    static let f7 = Scenario(
        code: "F7", title: "quorum loss (kill -9 two of three), then restart one",
        asserts:
            "A write fails (fail, not info) with noQuorum or noLeader listing every node tried, by the discovery "
            + "deadline; after one node restarts on its data, the client recovers by itself within its discovery "
            + "deadline."
    ) { run in
        var outcome = ScenarioOutcome()
        // Not a failover: the restarted node replays its log and both run their election timers. The client must
        // recover on its own, within its discovery deadline.
        let budget = run.settings.discoveryTimeout
        outcome.failoverBudget = budget
        let leader = try await run.stableLeader()
        guard let follower = run.cluster.followers(of: leader).first else { throw FaultTestFailure("no follower") }
        await run.cluster.kill(leader)
        await run.cluster.kill(follower)
        outcome.faults += 2
        try await Task.sleep(for: ClientSettings.electionTimeoutMax * 2)
        let write = await run.nemesisInsert()
        let error = write.dqliteError
        let latency = run.history.all[write.id].latency
        outcome.expect(write.outcome == .fail, "the write ended \(write.outcome): \(describe(write.error))")
        outcome.expect(
            error?.code == .noQuorum || error?.code == .noLeader, "expected noQuorum/noLeader: \(describe(write.error))"
        )
        outcome.expect(
            (error?.attempts.count ?? 0) >= 3, "the error lists \(error?.attempts.count ?? 0) nodes: \(describe(error))"
        )
        outcome.notes.append("quorum loss reported as \(error?.code.name ?? "?") after \(latency) s")
        try await run.cluster.restart(follower)
        let restarted = ContinuousClock.now
        let recovery = await run.firstAcknowledgedWrite(after: restarted)
        run.checkRecovery(recovery, budget: budget, since: restarted, "recovery after the restart", &outcome)
        try await run.cluster.restart(leader)
        return outcome
    }

    static let f8 = Scenario(
        code: "F8", title: "restart a follower on the same data",
        asserts:
            "The node rejoins and catches up: after leadership is moved to it, a read through it contains every "
            + "set element acknowledged before."
    ) { run in
        var outcome = ScenarioOutcome()
        let leader = try await run.stableLeader()
        guard let follower = run.cluster.followers(of: leader).first else { throw FaultTestFailure("no follower") }
        await run.cluster.kill(follower)
        outcome.faults += 1
        try await Task.sleep(for: .seconds(2))
        try await run.cluster.restart(follower)
        let cutoff = run.history.now()
        let acknowledged = Set(
            run.history.all.filter { $0.workload == .set && $0.outcome == .ok && $0.completed < cutoff }.map(\.key))
        let address = try run.cluster.slot(of: follower).address
        var values: Set<Int64>?
        for _ in 0..<10 where values == nil {
            do {
                try await run.transferLeadership(to: follower)
                values = try await run.client.withConnection { session -> Set<Int64>? in
                    // On a connection to a former leader this fails (NOT_LEADER) and the pool drops it.
                    try await session.execute("INSERT INTO sync (at) VALUES (3)")
                    guard session.node.description == address else { return nil }
                    return Set(try await session.query("SELECT v FROM set_items").decode(Int64.self, limit: .max))
                }
            } catch {
                outcome.notes.append("read through the restarted node: \(error)")
            }
            if values == nil { try await Task.sleep(for: .milliseconds(200)) }
        }
        outcome.faults += 1
        guard let values else {
            outcome.problems.append("could not read through the restarted node \(follower)")
            return outcome
        }
        let missing = acknowledged.subtracting(values)
        outcome.expect(
            missing.isEmpty, "the restarted node lacks \(missing.count) acknowledged elements: \(missing.prefix(5))")
        outcome.notes.append("read \(values.count) elements through node \(follower)")
        return outcome
    }

    static let f9 = Scenario(
        code: "F9", title: "membership churn with leadership transfers while writing",
        asserts:
            "Add a spare, promote it, move leadership to it, remove an old voter, transfer again — while the "
            + "id/other writer runs (dqlite#46); no server crash; writes acknowledged afterwards."
    ) { run in
        var outcome = ScenarioOutcome()
        let admin = run.admin
        let newID = try await run.cluster.addNode(role: "spare")
        outcome.faults += 1
        try await admin.assign(id: newID, role: .voter)
        outcome.faults += 1
        try await run.transferLeadership(to: newID)
        outcome.faults += 1
        let leader = try await run.stableLeader()
        outcome.expect(leader == newID, "leadership went to \(leader), not \(newID)")
        guard let victim = run.cluster.liveIDs.filter({ $0 != newID && $0 != leader }).min() else {
            throw FaultTestFailure("no voter to remove")
        }
        try await admin.remove(id: victim)
        await run.cluster.discard(victim)
        outcome.faults += 1
        try await run.transferLeadership(to: nil)
        outcome.faults += 1
        let start = ContinuousClock.now
        let written = await run.firstAcknowledgedWrite(after: start, timeout: .seconds(30))
        outcome.expect(written != nil, "no write was acknowledged after the churn")
        let members = try await admin.cluster().filter { $0.role == .voter }.map(\.id).sorted()
        outcome.expect(members == run.cluster.liveIDs, "voters \(members), live nodes \(run.cluster.liveIDs)")
        outcome.notes.append("added \(newID), removed \(victim); voters now \(members)")
        for id in run.cluster.liveIDs {
            let log = (try? String(contentsOf: run.cluster.logFile(of: id), encoding: .utf8)) ?? ""
            outcome.expect(!log.contains("Assertion"), "node \(id) logged an assertion")
        }
        return outcome
    }

    // MARK: - Proxy faults (client connections to the leader)

    /// `SELECT count(*) FROM set_items WHERE worker = ?` with `marker`.
    static func markedCount(_ client: DqliteClient, _ marker: Int) async throws -> Int64 {
        try await client.query("SELECT count(*) FROM set_items WHERE worker = \(marker)").decode(Int64.self).first ?? -1
    }

    static let markerPrefix = "SELECT count(*) FROM set_items WHERE worker ="

    static let f10 = Scenario(
        code: "F10", title: "proxy blackholes the answer after forwarding the request",
        asserts:
            "A write returns ambiguousCommit at its call deadline (and took effect exactly if the node's dropped "
            + "answer was RESULT); a blackholed read fails with timeout at its deadline (the deadline is absolute "
            + "over attempts, so it is not retried past it), and the next read succeeds on a fresh connection."
    ) { run in
        var outcome = ScenarioOutcome()
        let leader = try await run.stableLeader()
        let proxy = try run.cluster.proxy(of: leader)
        let marker = -(10_000 + run.currentRound)
        let value = run.nemesisValue()
        let bound = (run.settings.callTimeout + .seconds(1)).seconds
        proxy.arm(
            .init(
                matches: { _, request in Match.sql(request, prefix: "INSERT INTO set_items", parameter: 0, is: value) },
                action: .blackholeAnswer))
        let write = await run.workloads.insert(value: value, worker: marker, process: "nemesis")
        outcome.faults += proxy.disarm() ? 0 : 1
        // What the node answered the write (the client never saw it) decides whether it must be there.
        let answer = proxy.droppedAnswers.last ?? "nothing"
        let writeLatency = run.history.all[write.id].latency
        outcome.expect(
            write.dqliteError?.code == .ambiguousCommit, "the write ended \(write.outcome): \(describe(write.error))")
        outcome.expect(writeLatency <= bound, "the write returned after \(writeLatency) s (bound \(bound) s)")
        proxy.arm(
            .init(
                matches: { _, request in
                    Match.sql(request, prefix: markerPrefix, parameter: 0, is: Int64(marker))
                }, action: .blackholeAnswer))
        let blackholed = await run.history.run(
            .read, process: "nemesis", key: 0, deadline: run.settings.autocommitDeadline
        ) { [client = run.client] in try await markedCount(client, marker) }
        outcome.faults += proxy.disarm() ? 0 : 1
        let readLatency = run.history.all[blackholed.id].latency
        outcome.expect(
            blackholed.dqliteError?.code == .timeout,
            "the blackholed read ended \(blackholed.outcome): \(describe(blackholed.error))")
        outcome.expect(readLatency <= bound, "the blackholed read returned after \(readLatency) s (bound \(bound) s)")
        let read = await run.history.run(
            .read, process: "nemesis", key: 0, deadline: run.settings.autocommitDeadline
        ) { [client = run.client] in try await markedCount(client, marker) }
        outcome.expect(read.outcome == .ok, "the read after the blackhole failed: \(describe(read.error))")
        let applied = answer == ResponseType.result.name
        outcome.expect(
            read.value == (applied ? 1 : 0),
            "the node answered the write with \(answer) but the row count is \(read.value ?? -1)")
        outcome.notes.append("the node's dropped answer to the write: \(answer)")
        outcome.notes.append(
            "write \(write.dqliteError?.code.name ?? "ok") after \(String(format: "%.2f", writeLatency)) s; "
                + "blackholed read \(blackholed.dqliteError?.code.name ?? "ok") after "
                + "\(String(format: "%.2f", readLatency)) s; next read ok after "
                + "\(String(format: "%.2f", run.history.all[read.id].latency)) s")
        return outcome
    }

    static let f11 = Scenario(
        code: "F11", title: "proxy half-open: no FIN, no RST, nothing forwarded",
        asserts:
            "Calls on dead connections return by their deadline (not after minutes); writes resume within call "
            + "timeout + failover budget of the repair; the client closes every dead connection."
    ) { run in
        var outcome = ScenarioOutcome()
        let budget = run.settings.callTimeout + run.settings.failoverBudget
        outcome.failoverBudget = budget
        let leader = try await run.stableLeader()
        let proxy = try run.cluster.proxy(of: leader)
        let from = run.history.now()
        proxy.mode = .halfOpen
        outcome.faults += 1
        try await Task.sleep(for: run.settings.callTimeout + .milliseconds(1500))
        proxy.mode = .pass
        let healed = ContinuousClock.now
        let recovery = await run.firstAcknowledgedWrite(after: healed)
        run.checkRecovery(recovery, budget: budget, since: healed, "recovery after the repair", &outcome)
        let deadline = ContinuousClock.now + .seconds(10)
        while proxy.silentConnections > 0 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        outcome.expect(
            proxy.silentConnections == 0, "\(proxy.silentConnections) dead connections are still held by the client")
        try await Task.sleep(for: run.settings.callTimeout)  // calls still in flight finish
        let to = run.history.now() - (ContinuousClock.now - healed).seconds
        // Calls that overlapped the fault (including those sent just before it began).
        let overlapping = run.history.all.filter { $0.completed > from && $0.invoked < to }
        let worst = overlapping.map(\.latency).max() ?? 0
        outcome.notes.append(
            "\(overlapping.count) calls overlapped the fault; the longest took \(String(format: "%.2f", worst)) s")
        outcome.expect(
            worst <= (run.settings.callTimeout * run.settings.maximumAttempts + run.settings.connectionSetup).seconds,
            "a call overlapping the half-open window took \(worst) s")
        return outcome
    }

    /// One damaged answer, and what the SDK must report.
    struct DamageCase: Sendable {
        var name: String
        var action: FaultProxy.Action
        /// A read through a session (not retried), a read through the client (retried), or a write.
        enum Call: Sendable { case sessionRead, clientRead, write }
        var call: Call
        /// Accepted error codes; empty: the call must succeed.
        var expected: Set<String>
    }

    static let damageCases: [DamageCase] = [
        .init(
            name: "header type", action: .corruptAnswer(.headerType), call: .sessionRead,
            expected: ["protocolViolation"]),
        .init(
            name: "huge length", action: .corruptAnswer(.hugeLength), call: .sessionRead,
            expected: ["protocolViolation"]),
        .init(
            name: "row type nibble", action: .corruptAnswer(.rowTypeNibble), call: .sessionRead,
            expected: ["protocolViolation"]),
        .init(
            name: "trailing garbage", action: .corruptAnswer(.trailingGarbage), call: .sessionRead,
            expected: ["protocolViolation"]),
        .init(
            name: "truncated", action: .truncateAnswer(bytes: 12), call: .sessionRead, expected: ["connectionClosed"]),
        .init(name: "reset", action: .resetAnswer, call: .sessionRead, expected: ["connectionClosed"]),
        .init(name: "header type (client read)", action: .corruptAnswer(.headerType), call: .clientRead, expected: []),
        .init(name: "truncated (client read)", action: .truncateAnswer(bytes: 12), call: .clientRead, expected: []),
        .init(name: "truncated write", action: .truncateAnswer(bytes: 12), call: .write, expected: ["ambiguousCommit"]),
        .init(name: "reset write", action: .resetAnswer, call: .write, expected: ["ambiguousCommit"]),
        .init(name: "corrupt write", action: .corruptAnswer(.headerType), call: .write, expected: ["ambiguousCommit"]),
    ]

    static let f12 = Scenario(
        code: "F12", title: "proxy corrupts, truncates or resets answers; delays and trickles them",
        asserts:
            "Each damaged answer gives the expected typed error promptly (protocolViolation, connectionClosed; "
            + "ambiguousCommit for writes; reads through the client are retried and succeed), the connection is "
            + "discarded and the next call works; 30 ms delays and 16-byte trickling cause no error (busy aside)."
    ) { run in
        var outcome = ScenarioOutcome()
        let leader = try await run.stableLeader()
        let proxy = try run.cluster.proxy(of: leader)
        let client = run.client
        for (index, item) in damageCases.enumerated() {
            let marker = -(20_000 + 100 * run.currentRound + index)
            let value = run.nemesisValue()
            proxy.arm(
                .init(
                    matches: { _, request in
                        switch item.call {
                        case .write: return Match.sql(request, prefix: "INSERT INTO set_items", parameter: 0, is: value)
                        default: return Match.sql(request, prefix: markerPrefix, parameter: 0, is: Int64(marker))
                        }
                    }, action: item.action))
            let clock = ContinuousClock()
            let started = clock.now
            var error: (any Error)?
            switch item.call {
            case .sessionRead:
                do {
                    _ = try await client.withConnection { session in
                        try await session.query("SELECT count(*) FROM set_items WHERE worker = \(marker)")
                            .decode(Int64.self)
                    }
                } catch let thrown { error = thrown }
            case .clientRead:
                do { _ = try await markedCount(client, marker) } catch let thrown { error = thrown }
            case .write:
                error = await run.workloads.insert(value: value, worker: marker, process: "nemesis").error
            }
            let elapsed = clock.now - started
            let fired = !proxy.disarm()
            outcome.faults += fired ? 1 : 0
            outcome.expect(fired, "\(item.name): the rule did not fire")
            let code = (error as? DqliteError)?.code.name
            if item.expected.isEmpty {
                outcome.expect(error == nil, "\(item.name): expected success, got \(describe(error))")
            } else {
                outcome.expect(
                    code.map(item.expected.contains) ?? false,
                    "\(item.name): expected \(item.expected.sorted()), got \(describe(error))")
                outcome.expect(
                    elapsed < run.settings.callTimeout,
                    "\(item.name): the error took \(elapsed) (it must not wait for the deadline)")
            }
            let next = await run.history.run(
                .read, process: "nemesis", key: 0, deadline: run.settings.autocommitDeadline
            ) { try await markedCount(client, marker) }
            outcome.expect(next.outcome == .ok, "\(item.name): the next read failed: \(describe(next.error))")
            outcome.notes.append("\(item.name): \(code ?? "ok") in \(String(format: "%.3f", elapsed.seconds)) s")
        }
        for mode in [FaultProxy.Mode.delay(.milliseconds(30)), .trickle(bytes: 16, pause: .milliseconds(1))] {
            let from = run.history.now()
            proxy.mode = mode
            outcome.faults += 1
            try await Task.sleep(for: .seconds(2))
            proxy.mode = .pass
            let to = run.history.now()
            try await Task.sleep(for: .milliseconds(300))
            let window = run.history.operations(from: from, to: to)
            let bad = faultFailures(window)
            outcome.expect(
                bad.isEmpty,
                "\(mode): \(bad.count) of \(window.count) calls failed: \(bad.prefix(3).map { $0.error ?? "?" })")
            outcome.notes.append("\(mode): \(window.count) calls, \(bad.count) failed")
        }
        return outcome
    }

    // MARK: - Client-side scenarios

    static let f14 = Scenario(
        code: "F14", title: "large result with an early break",
        asserts:
            "Breaking out of a 5000-row (2 MB) result after 5 rows, 20 times: each returns promptly, the pooled "
            + "connection is drained and reused (no new connection), memory stays bounded."
    ) { run in
        var outcome = ScenarioOutcome()
        await run.gate.pause(timeout: run.settings.autocommitDeadline)
        defer { run.gate.resume() }
        let client = run.client
        try await client.execute("CREATE TABLE IF NOT EXISTS big (id INTEGER PRIMARY KEY, payload BLOB NOT NULL)")
        let rows: Int64 = try await client.query("SELECT count(*) FROM big").decode(Int64.self).first ?? 0
        if rows == 0 {
            try await client.execute(
                """
                INSERT INTO big (id, payload) SELECT x, randomblob(400) FROM \
                (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5000) SELECT x FROM c)
                """)
        }
        let leader = try await run.stableLeader()
        let proxy = try run.cluster.proxy(of: leader)
        _ = try await client.query("SELECT count(*) FROM big").decode(Int64.self)
        let before = proxy.clientConnections
        var slowest = Duration.zero
        let (_, growth) = try await MemoryProbe.measure {
            for _ in 0..<20 {
                let started = ContinuousClock.now
                var seen = 0
                for try await _ in try await client.query("SELECT id, payload FROM big") {
                    seen += 1
                    if seen == 5 { break }
                }
                let count: Int64? = try await client.query("SELECT count(*) FROM big").decode(Int64.self).first
                slowest = max(slowest, ContinuousClock.now - started)
                outcome.expect(count == 5000, "the query after the early break read \(count ?? -1)")
            }
        }
        outcome.faults += 20
        let opened = proxy.clientConnections - before
        outcome.expect(opened <= 1, "\(opened) new connections for 20 early breaks (the connection was not reused)")
        outcome.expect(
            growth.residentPeak < 64 << 20, "memory grew: \(growth)")
        outcome.expect(slowest < run.settings.callTimeout * 2, "an early break took \(slowest)")
        outcome.notes.append("slowest break + next query \(slowest); \(growth); \(opened) new connection(s)")
        return outcome
    }

    static let f15 = Scenario(
        code: "F15", title: "16 concurrent writers through the pool during a leader flip",
        asserts:
            "Every one of 16 writers (pool of 8) gets writes acknowledged after the leadership transfer; no "
            + "acknowledged row is lost (set checker)."
    ) { run in
        var outcome = ScenarioOutcome()
        await run.gate.pause(timeout: run.settings.autocommitDeadline)
        defer { run.gate.resume() }
        let clock = ContinuousClock()
        let stopAt = clock.now + .seconds(4)
        let flippedAt = Shared<ContinuousClock.Instant?>(nil)
        let okAfterFlip = Shared<[Int: Int]>([:])
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<16 {
                group.addTask {
                    while clock.now < stopAt {
                        let result = await run.workloads.insert(
                            value: run.nemesisValue(), worker: 100 + writer, process: "writer-\(writer)")
                        if result.outcome == .ok, let flipped = flippedAt.value, clock.now > flipped {
                            okAfterFlip.update { $0[writer, default: 0] += 1 }
                        }
                    }
                }
            }
            try await Task.sleep(for: .seconds(1))
            let new = try await run.transferLeadership(to: nil)
            flippedAt.value = clock.now
            outcome.faults += 1
            outcome.notes.append("leadership moved to node \(new.id)")
            try await group.waitForAll()
        }
        let counts = okAfterFlip.value
        let starved = (0..<16).filter { (counts[$0] ?? 0) == 0 }
        outcome.expect(starved.isEmpty, "writers \(starved) had no write acknowledged after the flip")
        outcome.notes.append("acknowledged after the flip: \(counts.values.reduce(0, +))")
        return outcome
    }
}
