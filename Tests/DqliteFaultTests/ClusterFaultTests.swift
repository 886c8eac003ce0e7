import Dqlite
import Foundation
import Testing

/// The fault-injection suite: one test runs the nemesis schedule against dqlite-node processes, the other
/// drives a hostile fake server. They run one at a time (timings and memory figures must not be disturbed by
/// each other).
@Suite("Fault injection", .serialized)
struct FaultSuite {}

extension FaultSuite {
    /// Minutes the schedule test may take: the requested duration plus setup and checks.
    static var timeLimitMinutes: Int {
        guard let duration = FaultEnvironment.duration else { return 15 }
        return Int(duration.components.seconds / 60) + 15
    }

    @Suite("Cluster under faults")
    struct ClusterFaults {
        @Test(
            "set, bank and id/other workloads through F1–F12, F14, F15: no acknowledged write lost, no failed write applied",
            .timeLimit(.minutes(FaultSuite.timeLimitMinutes)))
        func schedule() async throws {
            let settings = ClientSettings()
            let latency = FaultEnvironment.latencyMilliseconds
            try await withNodeCluster(voters: 3, spareSlots: 2, latencyMilliseconds: latency) { cluster in
                let client = DqliteClient(
                    configuration: try settings.configuration(seeds: cluster.addresses, database: "faults"))
                defer { client.shutdown() }
                try await Schema.create(client)
                let run = FaultRun(cluster: cluster, client: client, settings: settings, history: History())
                let workers = Task { await run.workloads.run() }
                let figures: RunFigures
                do {
                    figures = try await Self.runSchedule(run)
                } catch {
                    run.gate.stop()
                    await workers.value
                    run.stalls.stop()
                    throw error
                }
                run.gate.stop()
                await workers.value
                defer { run.stalls.stop() }
                try await Self.finish(run, figures)
            }
        }

        /// Runs the scenarios (once for the smoke run; repeatedly until the requested duration is spent).
        static func runSchedule(_ run: FaultRun) async throws -> RunFigures {
            let settings = run.settings
            var figures = RunFigures(
                label: FaultEnvironment.label, date: Self.today(),
                requestedDuration: FaultEnvironment.duration?.seconds,
                latencyMilliseconds: FaultEnvironment.latencyMilliseconds,
                electionTimeout: FaultEnvironment.electionTimeout.seconds,
                failoverBudget: settings.failoverBudget.seconds, callTimeout: settings.callTimeout.seconds,
                autocommitDeadline: settings.autocommitDeadline.seconds,
                transactionDeadline: settings.transactionDeadline(statements: 6).seconds)
            let scenarios = Scenarios.all.filter { FaultEnvironment.scenarioFilter?.contains($0.code) ?? true }
            var byCode: [String: ScenarioFigures] = [:]
            for scenario in scenarios {
                byCode[scenario.code] = ScenarioFigures(
                    code: scenario.code, title: scenario.title, asserts: scenario.asserts)
            }
            let clock = ContinuousClock()
            let began = clock.now
            try await Task.sleep(for: .seconds(2))  // the workloads warm up
            var round = 0
            var windows: [ScenarioWindow] = []
            schedule: while true {
                run.currentRound = round
                figures.rounds = round + 1
                for scenario in scenarios {
                    let from = run.history.now()
                    var outcome: ScenarioOutcome
                    do {
                        outcome = try await scenario.run(run)
                    } catch {
                        outcome = ScenarioOutcome()
                        outcome.problems.append("the scenario threw: \(error)")
                    }
                    if !outcome.problems.isEmpty {
                        await Self.writeIncident(run, scenario: scenario, round: round, outcome: outcome)
                    }
                    do {
                        try await run.heal()
                    } catch {
                        outcome.problems.append("healing after the scenario failed: \(error)")
                    }
                    try await Task.sleep(for: .seconds(1))  // quiet period: workloads only
                    let operations = run.history.operations(from: from, to: run.history.now())
                    windows.append(ScenarioWindow(code: scenario.code, round: round, from: from, to: run.history.now()))
                    var entry =
                        byCode[scenario.code]
                        ?? ScenarioFigures(
                            code: scenario.code, title: scenario.title, asserts: scenario.asserts)
                    entry.runs += 1
                    entry.faults += outcome.faults
                    entry.operations += operations.count
                    entry.ok += operations.filter { $0.outcome == .ok }.count
                    entry.fail += operations.filter { $0.outcome == .fail }.count
                    entry.info += operations.filter { $0.outcome == .info }.count
                    entry.maxLatency = max(entry.maxLatency, operations.map(\.latency).max() ?? 0)
                    if let failover = outcome.failover {
                        entry.maxFailover = max(entry.maxFailover ?? 0, failover.seconds)
                    }
                    entry.failoverBudget = outcome.failoverBudget?.seconds
                    entry.maxStall = max(entry.maxStall, outcome.stall.seconds)
                    if let election = outcome.election {
                        entry.maxElection = max(entry.maxElection ?? 0, election.seconds)
                    }
                    entry.problems += outcome.problems.map { "round \(round): \($0)" }
                    if entry.notes.count < 6 { entry.notes += outcome.notes.prefix(3) }
                    byCode[scenario.code] = entry
                    print(
                        "[faults] round \(round) \(scenario.code) \(outcome.problems.isEmpty ? "ok" : "FAILED") "
                            + "faults \(outcome.faults) ops \(operations.count) failover "
                            + "\(outcome.failover.map { "\($0)" } ?? "-") \(outcome.problems) \(outcome.notes)")
                    if let duration = FaultEnvironment.duration, clock.now - began >= duration, round > 0 {
                        break schedule
                    }
                }
                round += 1
                guard let duration = FaultEnvironment.duration, clock.now - began < duration else { break }
            }
            run.windows = windows
            figures.elapsed = (clock.now - began).seconds
            figures.scenarios = scenarios.compactMap { byCode[$0.code] }
            return figures
        }

        /// Final reads (through every node, as leader), the checkers, the report, and the assertions.
        static func finish(_ run: FaultRun, _ partial: RunFigures) async throws {
            var figures = partial
            try await run.heal()
            var states: [(UInt64, FinalState)] = []
            for id in run.cluster.liveIDs {
                states.append((id, try await readFinalState(run, through: id)))
            }
            guard let (_, reference) = states.first else { throw FaultTestFailure("no node could be read") }
            figures.nodesChecked = states.count
            figures.replicasIdentical = states.allSatisfy { $0.1 == reference }
            let operations = run.history.all
            figures.check = Checkers.check(operations, against: reference)
            figures.operations = operations.count
            figures.ok = operations.filter { $0.outcome == .ok }.count
            figures.fail = operations.filter { $0.outcome == .fail }.count
            figures.info = operations.filter { $0.outcome == .info }.count
            for operation in operations {
                figures.byWorkload[operation.workload.rawValue, default: [:]][operation.outcome.rawValue, default: 0] +=
                    1
                if let error = operation.error { figures.errors[error, default: 0] += 1 }
            }
            figures.faults = figures.scenarios.map(\.faults).reduce(0, +)
            // Leader failover proper (kill -9 or SIGTERM of the leader); other recoveries have their own budgets.
            figures.maxFailover =
                figures.scenarios.filter { $0.failoverBudget == run.settings.failoverBudget.seconds }
                .compactMap(\.maxFailover).max() ?? 0
            figures.maxStall = figures.scenarios.map(\.maxStall).max() ?? 0
            let latencies = operations.map(\.latency).sorted()
            figures.maxLatency = latencies.last ?? 0
            figures.p99Latency = latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, latencies.count * 99 / 100)]
            figures.maxLatencyRatio = operations.map { $0.latency / $0.deadline }.max() ?? 0
            figures.slowest = operations.sorted { $0.latency > $1.latency }.prefix(5).map { operation in
                let window = run.windows.first { operation.invoked >= $0.from && operation.invoked < $0.to }
                let place = window.map { "\($0.code) round \($0.round)" } ?? "warm-up"
                return String(format: "%.2f s: ", operation.latency)
                    + "\(operation.process) \(operation.workload.rawValue) \(operation.outcome.rawValue)"
                    + (operation.error.map { " `\($0)`" } ?? "") + " (\(place))"
            }
            try figures.writePart("cluster", to: FaultEnvironment.resultsDirectory)
            try Self.writeHistory(operations, windows: run.windows, to: FaultEnvironment.resultsDirectory)
            print(figures.markdown())

            #expect(operations.count > 100, "too few operations ran: \(operations.count)")
            #expect(figures.check.lostWrites == 0, "acknowledged writes were lost: \(figures.check.violations)")
            #expect(
                figures.check.failedButApplied == 0,
                "writes reported as definitely failed took effect: \(figures.check.violations)")
            #expect(figures.check.badBankReads == 0, "bank reads with a wrong total: \(figures.check.violations)")
            #expect(figures.check.bankStateErrors == 0, "bank state errors: \(figures.check.violations)")
            #expect(figures.check.idOtherMismatches == 0, "id/other mismatches: \(figures.check.violations)")
            #expect(
                figures.check.lateOperations == 0, "calls returned after their deadline: \(figures.check.violations)")
            #expect(figures.check.untypedErrors == 0, "errors that are not DqliteError: \(figures.check.violations)")
            #expect(figures.replicasIdentical, "the nodes disagree on the final state")
            for scenario in figures.scenarios {
                #expect(scenario.runs > 0, "\(scenario.code) never ran")
                for problem in scenario.problems {
                    Issue.record(Comment(rawValue: "\(scenario.code) \(scenario.title): \(problem)"))
                }
            }
        }

        /// The state as node `id` has it: leadership is moved to it, then everything is read through it after
        /// a write of our own (so the read is not stale).
        static func readFinalState(_ run: FaultRun, through id: UInt64) async throws -> FinalState {
            let address = try run.cluster.slot(of: id).address
            var lastError: (any Error)?
            for _ in 0..<10 {
                do {
                    try await run.transferLeadership(to: id)
                    let state = try await run.client.withConnection { session -> FinalState? in
                        // On a connection to a former leader this fails (NOT_LEADER) and the pool drops it.
                        try await session.execute("INSERT INTO sync (at) VALUES (2)")
                        guard session.node.description == address else { return nil }
                        let values = try await session.query("SELECT v FROM set_items").decode(Int64.self, limit: .max)
                        let balances = try await session.query("SELECT id, balance FROM accounts")
                            .decode((Int64, Int64).self)
                        let transfers = try await session.query("SELECT tid, src, dst, amount FROM transfers")
                            .decode((Int64, Int64, Int64, Int64).self, limit: .max)
                        let rows = try await session.query("SELECT tag, id, other FROM idother")
                            .decode((Int64, Int64, Int64).self, limit: .max)
                        var state = FinalState(setValues: Set(values), balances: [:], transfers: [:], idOther: [:])
                        for (account, balance) in balances { state.balances[account] = balance }
                        for (tid, source, destination, amount) in transfers {
                            state.transfers[tid] = .init(source: source, destination: destination, amount: amount)
                        }
                        for (tag, rowID, other) in rows { state.idOther[tag] = .init(id: rowID, other: other) }
                        return state
                    }
                    if let state { return state }
                } catch {
                    lastError = error
                }
                try await Task.sleep(for: .milliseconds(300))
            }
            throw FaultTestFailure(
                "could not read the final state through node \(id): \(lastError.map { "\($0)" } ?? "?")")
        }

        /// The history with the scenario windows, for looking into a run afterwards: `failures.json` (every
        /// operation that did not end ok) and, with `DQLITE_FAULT_HISTORY=1`, `history.json` (all of them).
        static func writeHistory(_ operations: [Operation], windows: [ScenarioWindow], to directory: URL) throws {
            struct Dump: Encodable {
                var windows: [ScenarioWindow]
                var operations: [Operation]
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let failures = Dump(windows: windows, operations: operations.filter { $0.outcome != .ok })
            try encoder.encode(failures).write(to: directory.appendingPathComponent("failures.json"))
            if FaultEnvironment.environment["DQLITE_FAULT_HISTORY"] == "1" {
                try encoder.encode(Dump(windows: windows, operations: operations)).write(
                    to: directory.appendingPathComponent("history.json"))
            }
        }

        /// What a failed scenario leaves behind: its problems, every node's state and answers, the end of every
        /// node log (`incident-<round>-<code>.txt` in the results directory).
        static func writeIncident(_ run: FaultRun, scenario: Scenario, round: Int, outcome: ScenarioOutcome) async {
            var text = "\(scenario.code) \(scenario.title), round \(round)\n\nproblems:\n"
            text += outcome.problems.joined(separator: "\n") + "\n\nnotes:\n" + outcome.notes.joined(separator: "\n")
            text += "\n\nnodes now:\n" + (await run.cluster.describe()) + "\n\nlogs:\n" + run.cluster.logs()
            let file = FaultEnvironment.resultsDirectory.appendingPathComponent(
                "incident-\(round)-\(scenario.code).txt")
            try? FileManager.default.createDirectory(
                at: FaultEnvironment.resultsDirectory, withIntermediateDirectories: true)
            try? Data(text.utf8).write(to: file)
        }

        static func today() -> String {
            let formatter = DateFormatter()
            formatter.dateFormat = "yyyy-MM-dd HH:mm 'UTC'"
            formatter.timeZone = TimeZone(identifier: "UTC")
            return formatter.string(from: Date())
        }
    }
}
