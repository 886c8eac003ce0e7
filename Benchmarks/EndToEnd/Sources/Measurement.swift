import Foundation
import Synchronization

/// Warm-up, measured window, done: shared by the workers of one run.
final class Phases: Sendable {
    private let phase = Atomic<Int>(0)

    static let warmup = 0
    static let measuring = 1
    static let done = 2

    var current: Int { phase.load(ordering: .acquiring) }

    func advance(to next: Int) { phase.store(next, ordering: .releasing) }
}

/// One worker's counts. Entering the measured window discards what the warm-up counted.
struct Tally: Sendable {
    var latencies: [Int64] = []  // nanoseconds, one per successful operation
    var rows = 0
    var reads = 0
    var writes = 0
    var warmupWrites = 0
    var errors: [String: Int] = [:]
    private var seenPhase = Phases.warmup

    init() { latencies.reserveCapacity(1 << 16) }

    /// True while the worker should start another operation.
    mutating func keepGoing(_ phases: Phases) -> Bool {
        let phase = phases.current
        if phase != seenPhase {
            if phase == Phases.measuring {
                warmupWrites = writes
                latencies.removeAll(keepingCapacity: true)
                rows = 0
                reads = 0
                writes = 0
                errors = [:]
            }
            seenPhase = phase
        }
        return phase != Phases.done
    }

    mutating func record(since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        latencies.append(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
    }

    mutating func fail(_ error: any Error) {
        errors[ErrorKind.name(error), default: 0] += 1
    }
}

/// Runs `workers` copies of `body` through warm-up and the measured window; returns the tallies and the
/// window's length in seconds (from its start until the last operation started in it has finished).
func measure(
    workers: Int, warmup: Double, duration: Double,
    _ body: @escaping @Sendable (_ worker: Int, _ phases: Phases) async -> Tally
) async -> (tallies: [Tally], seconds: Double) {
    let phases = Phases()
    let clock = ContinuousClock()
    return await withTaskGroup(of: Tally.self) { group in
        for worker in 0..<workers {
            group.addTask { await body(worker, phases) }
        }
        try? await Task.sleep(for: .seconds(warmup))
        let start = clock.now
        phases.advance(to: Phases.measuring)
        try? await Task.sleep(for: .seconds(duration))
        phases.advance(to: Phases.done)
        var tallies: [Tally] = []
        for await tally in group { tallies.append(tally) }
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return (tallies, seconds)
    }
}

/// One run's result, printed as one JSON line (the same fields as the Go side's).
struct Report {
    var side = "swift"
    var workload: String
    var workers: Int
    var operations = 0
    var rows = 0
    var seconds = 0.0
    var reads = 0
    var writes = 0
    var latencies: [Int64] = []
    var errors: [String: Int] = [:]
    var committedCheck: Int?
    var check: String?
    var busyRetries: Int?
    var extra: [String: String] = [:]

    init(workload: String, workers: Int) {
        self.workload = workload
        self.workers = workers
    }

    /// Pools the workers' tallies.
    init(workload: String, workers: Int, tallies: [Tally], seconds: Double, rowsAreWrites: Bool) {
        self.init(workload: workload, workers: workers)
        self.seconds = seconds
        for tally in tallies {
            latencies += tally.latencies
            rows += rowsAreWrites ? tally.writes : tally.rows
            reads += tally.reads
            writes += tally.writes
            for (kind, count) in tally.errors { errors[kind, default: 0] += count }
        }
        latencies.sort()
        operations = latencies.count
    }

    func percentile(_ p: Double) -> Double {
        guard !latencies.isEmpty else { return 0 }
        return Double(latencies[min(latencies.count - 1, Int(p * Double(latencies.count)))]) / 1000
    }

    func json() -> String {
        var fields: [(String, String)] = [
            ("side", quoted(side)), ("workload", quoted(workload)), ("workers", "\(workers)"),
            ("ops", "\(operations)"), ("rows", "\(rows)"), ("seconds", number(seconds)),
            ("ops_per_s", number(Double(operations) / max(seconds, 1e-9))),
            ("rows_per_s", number(Double(rows) / max(seconds, 1e-9))),
            ("p50_us", number(percentile(0.50))), ("p90_us", number(percentile(0.90))),
            ("p99_us", number(percentile(0.99))), ("max_us", number(percentile(1))),
        ]
        if reads > 0 { fields.append(("reads", "\(reads)")) }
        if writes > 0 { fields.append(("writes", "\(writes)")) }
        let errorFields = errors.sorted { $0.key < $1.key }.map { "\(quoted($0.key)):\($0.value)" }
        fields.append(("errors", "{" + errorFields.joined(separator: ",") + "}"))
        if let committedCheck { fields.append(("committed_check", "\(committedCheck)")) }
        if let check { fields.append(("check", quoted(check))) }
        if let busyRetries { fields.append(("busy_retries", "\(busyRetries)")) }
        for (key, value) in extra.sorted(by: { $0.key < $1.key }) { fields.append((key, quoted(value))) }
        fields.append(("loadavg", quoted(Self.loadAverage())))
        return "{" + fields.map { "\(quoted($0.0)):\($0.1)" }.joined(separator: ",") + "}"
    }

    static func loadAverage() -> String {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return "?" }
        return text.split(separator: " ").prefix(3).joined(separator: " ")
    }

    private func number(_ value: Double) -> String {
        value.isFinite ? String(format: "%.3f", value) : "null"
    }

    private func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
