import DqliteLocalCluster
import DqliteServer
import DqliteTestSupport
import Foundation

/// One node outside a ``LocalCluster`` and not yet a member (it waits to be added), of either server
/// generation: an in-process ``DqliteNode`` (1.11; with a failure domain) or a libdqlite 1.18.7 node started
/// with `scripts/dqlite118.sh` (whose node program has no failure-domain option).
///
/// Use ``withStandaloneNode(id:generation:failureDomain:_:)``: it always stops the node.
struct StandaloneNode: Sendable {
    let id: UInt64
    let address: String
    let generation: DqliteGeneration

    /// The failure domain the node was given (1.18: always 0, see the type's documentation).
    let failureDomain: UInt64
}

/// Starts node `id` on a reserved loopback port with a temporary data directory, runs `body`, and stops the
/// node (and removes its data) whatever happens.
func withStandaloneNode<Result>(
    id: UInt64, generation: DqliteGeneration, failureDomain: UInt64, isolation: isolated (any Actor)? = #isolation,
    _ body: (StandaloneNode) async throws -> Result
) async throws -> Result {
    let reservations = try await LoopbackPorts.reserve(count: 1)
    defer { reservations.forEach { $0.release() } }
    let address = reservations[0].address
    return try await withTemporaryDirectory("swift-dqlite-node\(id)") { directory in
        let dataDirectory = directory.appendingPathComponent("data").path
        switch generation {
        case .v1_11:
            var options = DqliteNode.Options()
            options.networkLatency = .milliseconds(20)
            options.failureDomain = failureDomain
            return try await DqliteNode.withRunningNode(
                id: id, address: address, dataDirectory: dataDirectory, options: options
            ) { _ in
                try await body(
                    StandaloneNode(id: id, address: address, generation: generation, failureDomain: failureDomain))
            }
        case .v1_18:
            let script = try TestEnvironment.dqlite118Script()
            try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
            let started = try await Subprocess.run(
                "/bin/bash",
                [
                    script, "start", "--id", "\(id)", "--address", address, "--data", dataDirectory,
                    "--network-latency-ms", "20", "--timeout", "60",
                ], timeout: .seconds(90))
            func stop() async throws -> String {
                try await Subprocess.run("/bin/bash", [script, "stop", "--address", address], timeout: .seconds(60))
                    .output
            }
            guard started.status == 0, started.output.contains("dqlite118: ready ") else {
                _ = try? await stop()
                throw TestFailure(description: "dqlite118.sh start of node \(id) failed:\n\(started.output)")
            }
            let result: Result
            do {
                result = try await body(
                    StandaloneNode(id: id, address: address, generation: generation, failureDomain: 0))
            } catch {
                _ = try? await stop()
                throw error
            }
            _ = try await stop()
            return result
        }
    }
}
