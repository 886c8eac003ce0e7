import Foundation

/// One scenario's figures over a run (summed over its repetitions).
struct ScenarioFigures: Sendable, Codable {
    var code: String
    var title: String
    var asserts: String
    var runs = 0
    var faults = 0
    var operations = 0
    var ok = 0
    var fail = 0
    var info = 0
    /// Longest operation invoked during the scenario, seconds.
    var maxLatency = 0.0
    /// Longest failover (fault → first acknowledged write), seconds, if the scenario measures one.
    var maxFailover: Double?
    var failoverBudget: Double?
    /// The largest scheduler-stall allowance added to the budget, seconds.
    var maxStall = 0.0
    /// The longest time the servers took to have a new leader (asked directly), seconds.
    var maxElection: Double?
    /// Failed assertions (empty when the scenario passed every time).
    var problems: [String] = []
    var notes: [String] = []

    var passed: Bool { problems.isEmpty && runs > 0 }
}

/// One hostile-server case's outcome.
struct HostileFigures: Sendable, Codable {
    var name: String
    var expected: String
    var observed: String
    var seconds: Double
    var virtualPeakGrowthMiB: Int
    var residentPeakGrowthMiB: Int
    var otherConnectionsOK: Int
    var otherConnectionsFailed: Int
    var passed: Bool
}

/// Everything a run reports; written as `results.json` and `results.md` (the figures section of
/// docs/reliability.md, spliced in by scripts/faults.sh).
struct RunFigures: Sendable, Codable {
    var label: String
    var date: String
    var requestedDuration: Double?
    var elapsed = 0.0
    var latencyMilliseconds: Int
    var electionTimeout: Double
    var failoverBudget: Double
    var callTimeout: Double
    var autocommitDeadline: Double
    var transactionDeadline: Double
    var rounds = 0
    var operations = 0
    var faults = 0
    var ok = 0
    var fail = 0
    var info = 0
    var byWorkload: [String: [String: Int]] = [:]
    var errors: [String: Int] = [:]
    var check = CheckResult()
    var replicasIdentical = true
    var nodesChecked = 0
    var maxFailover = 0.0
    var maxStall = 0.0
    var maxLatency = 0.0
    var maxLatencyRatio = 0.0
    var p99Latency = 0.0
    /// The slowest calls: "1.23 s set-0 set ok (F5 round 0)".
    var slowest: [String] = []
    var scenarios: [ScenarioFigures] = []
    var hostile: [HostileFigures] = []

    /// Writes this test's part (`cluster` or `hostile`), then `results.json` and `results.md` from every part
    /// present (the cluster test and the hostile-server test each contribute theirs; scripts/faults.sh empties
    /// the directory before a run).
    func writePart(_ part: String, to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: directory.appendingPathComponent("part-\(part).json"))
        func load(_ name: String) -> RunFigures? {
            guard let data = try? Data(contentsOf: directory.appendingPathComponent("part-\(name).json")) else {
                return nil
            }
            return try? JSONDecoder().decode(RunFigures.self, from: data)
        }
        var merged = load("cluster") ?? self
        merged.hostile = load("hostile")?.hostile ?? []
        try encoder.encode(merged).write(to: directory.appendingPathComponent("results.json"))
        try Data(merged.markdown().utf8).write(to: directory.appendingPathComponent("results.md"))
    }

    static func format(_ seconds: Double) -> String { String(format: "%.2f s", seconds) }

    /// The figures section.
    func markdown() -> String {
        var lines: [String] = []
        let duration = requestedDuration.map { "\(Int($0)) s requested" } ?? "smoke (each scenario once)"
        lines.append("Run **\(label)** on \(date): \(duration), \(Self.format(elapsed)) of workload and faults, ")
        lines[lines.count - 1] +=
            "\(rounds) round(s) of the schedule; nodes at --network-latency-ms \(latencyMilliseconds) "
            + "(election timeout \(Int(electionTimeout * 1000)) ms, randomized up to \(Int(2 * electionTimeout * 1000)) ms)."
        lines.append("")
        let lost = check.lostWrites
        let failedScenarios = scenarios.filter { !$0.passed }.map(\.code)
        let verdict =
            check.violationCount > 0 || !replicasIdentical
            ? "FAIL (checkers)"
            : failedScenarios.isEmpty
                ? "PASS" : "checkers PASS; scenario assertions failed: \(failedScenarios.joined(separator: ", "))"
        lines.append("| Figure | Value |")
        lines.append("|---|---|")
        lines.append("| Verdict | **\(verdict)** |")
        lines.append("| Operations | \(operations) (ok \(ok), fail \(fail), info \(info)) |")
        lines.append("| Faults injected | \(faults) |")
        lines.append("| Lost acknowledged writes | **\(lost)** |")
        lines.append("| Definitely-failed writes that took effect | **\(check.failedButApplied)** |")
        lines.append(
            "| Indeterminate (info) writes | \(check.infoApplied + check.infoNotApplied) "
                + "(\(check.infoApplied) took effect, \(check.infoNotApplied) did not) |")
        lines.append("| Bank reads with a wrong total | \(check.badBankReads) |")
        lines.append("| Bank final-state errors | \(check.bankStateErrors) |")
        lines.append("| id/other (dqlite#46) mismatches | \(check.idOtherMismatches) |")
        lines.append("| Untyped errors | \(check.untypedErrors) |")
        lines.append(
            "| Replicas identical at the end | \(replicasIdentical ? "yes" : "**no**") (\(nodesChecked) nodes read as leader) |"
        )
        lines.append(
            "| Max leader failover (kill -9 / SIGTERM of the leader → first acknowledged write; F1–F4) | "
                + "\(Self.format(maxFailover)) (budget \(Self.format(failoverBudget)) = 2 × "
                + "\(Int(2 * electionTimeout * 1000)) ms + the longest discovery backoff; other recoveries: see the "
                + "table) |")
        lines.append(
            "| Largest scheduler-stall allowance added to a budget | \(Self.format(maxStall)) "
                + "(a thread sleeping 10 ms woke up this much later, in total, during the measurement) |")
        lines.append(
            "| Max call latency vs deadline | \(Self.format(maxLatency)) (p99 \(Self.format(p99Latency))); "
                + "deadline \(Self.format(autocommitDeadline)) autocommit, \(Self.format(transactionDeadline)) "
                + "transfer; worst ratio \(String(format: "%.2f", maxLatencyRatio)); late calls: \(check.lateOperations) |"
        )
        lines.append("")
        lines.append("Per workload (ok / fail / info):")
        lines.append("")
        for workload in byWorkload.keys.sorted() {
            let counts = byWorkload[workload] ?? [:]
            lines.append(
                "- \(workload): \(counts["ok"] ?? 0) / \(counts["fail"] ?? 0) / \(counts["info"] ?? 0)")
        }
        lines.append("")
        if !slowest.isEmpty {
            lines.append("Slowest calls:")
            lines.append("")
            for call in slowest { lines.append("- \(call)") }
            lines.append("")
        }
        lines.append("Errors seen (as the SDK typed them):")
        lines.append("")
        for (name, count) in errors.sorted(by: { $0.value > $1.value }) { lines.append("- `\(name)`: \(count)") }
        lines.append("")
        if !scenarios.isEmpty {
            lines.append(
                "| # | Scenario | Result | Runs | Faults | Ops | ok / fail / info | Max latency | Max failover |")
            lines.append("|---|---|---|---|---|---|---|---|---|")
            for scenario in scenarios {
                let stall = scenario.maxStall > 0 ? " + \(Self.format(scenario.maxStall)) stalls" : ""
                let election = scenario.maxElection.map { "; servers \(Self.format($0))" } ?? ""
                let failover =
                    scenario.maxFailover.map {
                        Self.format($0) + (scenario.failoverBudget.map { " (≤ \(Self.format($0))\(stall))" } ?? "")
                            + election
                    } ?? "–"
                lines.append(
                    "| \(scenario.code) | \(scenario.title) | \(scenario.passed ? "pass" : "**FAIL**") | \(scenario.runs) "
                        + "| \(scenario.faults) | \(scenario.operations) | \(scenario.ok) / \(scenario.fail) / \(scenario.info) "
                        + "| \(Self.format(scenario.maxLatency)) | \(failover) |")
            }
            lines.append("")
            let problems = scenarios.flatMap { scenario in scenario.problems.map { "\(scenario.code): \($0)" } }
            if !problems.isEmpty {
                lines.append("Failed assertions:")
                lines.append("")
                for problem in problems.prefix(40) { lines.append("- \(problem)") }
                lines.append("")
            }
        }
        if !check.violations.isEmpty {
            lines.append("Checker violations:")
            lines.append("")
            for violation in check.violations.prefix(40) { lines.append("- \(violation)") }
            lines.append("")
        }
        if !hostile.isEmpty {
            lines.append("Hostile server (F13):")
            lines.append("")
            lines.append(
                "| Case | Expected | Observed | Time | Memory (virtual / resident peak growth) | Other connections | Result |"
            )
            lines.append("|---|---|---|---|---|---|---|")
            for item in hostile {
                lines.append(
                    "| \(item.name) | \(item.expected) | \(item.observed) | \(Self.format(item.seconds)) "
                        + "| +\(item.virtualPeakGrowthMiB) / +\(item.residentPeakGrowthMiB) MiB "
                        + "| \(item.otherConnectionsOK) ok, \(item.otherConnectionsFailed) failed | \(item.passed ? "pass" : "**FAIL**") |"
                )
            }
            lines.append("")
        }
        return lines.joined(separator: "\n")
    }
}
