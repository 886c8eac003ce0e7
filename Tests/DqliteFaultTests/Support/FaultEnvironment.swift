import Dqlite
import Foundation

/// Something the suite's own plumbing could not do (a node that does not start, a proxy that cannot listen).
struct FaultTestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The suite's settings, from the environment (scripts/faults.sh sets them; the defaults are the smoke run).
///
/// - `DQLITE_FAULT_DURATION`: seconds of the nemesis schedule. 0 or unset: the smoke run, every scenario once
///   with short holds (about 2 minutes in all). Larger: the schedule repeats until the time is spent.
/// - `DQLITE_FAULT_LATENCY_MS`: `--network-latency-ms` of the nodes (default 15; raft's election timeout is 15×).
/// - `DQLITE_FAULT_RESULTS`: where the run writes `results.json` and `results.md` (default
///   `<package>/.build/fault-results`).
/// - `DQLITE_FAULT_LABEL`: a label for the run in the report (default "smoke" or "duration N s").
/// - `DQLITE_FAULT_SCENARIOS`: only these scenarios (comma-separated codes).
/// - `DQLITE_FAULT_HISTORY=1`: also write every operation to `history.json`.
/// - `DQLITE_NODE_BINARY`: the `dqlite-node` executable (default: found next to the test bundle).
enum FaultEnvironment {
    /// The package root, from this file's path (`<root>/Tests/DqliteFaultTests/Support/…`).
    static let packageRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var environment: [String: String] { ProcessInfo.processInfo.environment }

    /// Requested duration of the schedule; nil for the smoke run.
    static var duration: Duration? {
        guard let text = environment["DQLITE_FAULT_DURATION"], let seconds = Int(text), seconds > 0 else {
            return nil
        }
        return .seconds(seconds)
    }

    /// `DQLITE_FAULT_SCENARIOS`: a comma-separated subset of scenario codes to run (e.g. `F5,F6,F6b`), to
    /// repeat a few scenarios for a long time; nil runs them all.
    static var scenarioFilter: Set<String>? {
        guard let text = environment["DQLITE_FAULT_SCENARIOS"], !text.isEmpty else { return nil }
        return Set(text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
    }

    /// The nodes' network latency in milliseconds (10–20 is what the suite is tuned for).
    static var latencyMilliseconds: Int {
        guard let text = environment["DQLITE_FAULT_LATENCY_MS"], let value = Int(text), (1...200).contains(value)
        else { return 15 }
        return value
    }

    /// raft's election timeout for that latency (libdqlite: 15 × latency; randomized to [T, 2T]).
    static var electionTimeout: Duration { .milliseconds(15 * latencyMilliseconds) }

    /// Where results go.
    static var resultsDirectory: URL {
        if let path = environment["DQLITE_FAULT_RESULTS"], !path.isEmpty { return URL(fileURLWithPath: path) }
        return packageRoot.appendingPathComponent(".build/fault-results")
    }

    /// The label of this run.
    static var label: String {
        if let label = environment["DQLITE_FAULT_LABEL"], !label.isEmpty { return label }
        if let duration { return "duration \(duration.components.seconds) s" }
        return "smoke"
    }

    /// The `dqlite-node` executable: `$DQLITE_NODE_BINARY`, else next to the test bundle, else
    /// `<root>/.build/debug/`.
    static func dqliteNodeBinary() throws -> String {
        var candidates: [String] = []
        if let override = environment["DQLITE_NODE_BINARY"], !override.isEmpty { candidates.append(override) }
        if let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            candidates.append(
                URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent(
                    "dqlite-node"
                ).path)
        }
        let bundle = URL(fileURLWithPath: CommandLine.arguments.first ?? "").deletingLastPathComponent()
        candidates.append(bundle.appendingPathComponent("dqlite-node").path)
        candidates.append(packageRoot.appendingPathComponent(".build/debug/dqlite-node").path)
        if let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) { return found }
        throw FaultTestFailure(
            "the dqlite-node executable is not built: run `swift build --product dqlite-node` (looked at: "
                + candidates.joined(separator: ", ") + ")")
    }

    /// A new empty directory under /tmp (the caller removes it).
    static func makeTemporaryDirectory(_ prefix: String) throws -> URL {
        let url = URL(fileURLWithPath: "/tmp").appendingPathComponent("\(prefix)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

extension Duration {
    /// Milliseconds, as a Double.
    var milliseconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }

    /// Seconds, as a Double.
    var seconds: Double { milliseconds / 1000 }
}
