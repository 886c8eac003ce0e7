import Dqlite
import DqliteLocalCluster
import DqliteTestSupport
import Foundation
import Synchronization

/// A cluster of `dqlite-node` processes (our executable, libdqlite 1.11.1 embedded through DqliteServer), for
/// tests that kill nodes with signals or drive the cluster with other programs.
///
/// Node *i* has id *i*, address `addresses[i - 1]` (reserved loopback ports) and data directory
/// `<directory>/node<i>`. Node 1 bootstraps; nodes 2…N are started with `--join <node 1>` (they add
/// themselves as voters and print READY once confirmed).
final class ProcessCluster: Sendable {
    let binary: String
    let directory: URL
    let addresses: [String]
    let latencyMilliseconds: Int
    /// Extra command-line arguments per node id.
    let extraArguments: @Sendable (UInt64) -> [String]
    private let ports: [LoopbackPortReservation]
    private let processes = Mutex<[UInt64: ChildProcess]>([:])
    private let formation = Mutex<Duration>(.zero)

    private init(
        binary: String, directory: URL, ports: [LoopbackPortReservation], latencyMilliseconds: Int,
        extraArguments: @escaping @Sendable (UInt64) -> [String]
    ) {
        self.binary = binary
        self.directory = directory
        self.ports = ports
        self.addresses = ports.map(\.address)
        self.latencyMilliseconds = latencyMilliseconds
        self.extraArguments = extraArguments
    }

    /// The node ids.
    var nodeIDs: [UInt64] { (1...addresses.count).map { UInt64($0) } }

    /// How long starting node 1 and joining the others took (until every node printed READY).
    var formationDuration: Duration { formation.withLock { $0 } }

    /// The address of node `id`.
    func address(of id: UInt64) -> String { addresses[Int(id) - 1] }

    /// The node id with this address.
    func id(of address: DqliteNodeAddress) throws -> UInt64 {
        guard let index = addresses.firstIndex(of: address.description) else {
            throw TestFailure(description: "\(address) is not a node of this cluster (\(addresses))")
        }
        return UInt64(index + 1)
    }

    /// The process of node `id`, while it runs.
    func process(of id: UInt64) -> ChildProcess? { processes.withLock { $0[id] } }

    /// The log of node `id` (all its runs).
    func log(of id: UInt64) -> String {
        (try? String(contentsOf: directory.appendingPathComponent("node\(id).log"), encoding: .utf8)) ?? ""
    }

    /// The command line of node `id`.
    func arguments(of id: UInt64, join: Bool) -> [String] {
        var arguments = [
            "--id", "\(id)", "--address", address(of: id), "--data-dir",
            directory.appendingPathComponent("node\(id)").path, "--network-latency-ms", "\(latencyMilliseconds)",
        ]
        if join { arguments += ["--join", address(of: 1), "--join-timeout", "30"] }
        return arguments + extraArguments(id)
    }

    /// Starts node `id` and waits for its READY line (the node then accepts connections, and has joined).
    func start(node id: UInt64, join: Bool, timeout: Duration = .seconds(45)) async throws {
        let child = try ChildProcess.launch(
            binary, arguments(of: id, join: join), log: directory.appendingPathComponent("node\(id).log"))
        processes.withLock { $0[id] = child }
        do {
            try await child.waitForOutput(containing: "READY id=\(id) ", timeout: timeout)
        } catch {
            await child.kill()
            processes.withLock { _ = $0.removeValue(forKey: id) }
            throw error
        }
    }

    /// `kill -9` node `id`; returns once the process is gone.
    func kill(node id: UInt64) async {
        guard let child = processes.withLock({ $0.removeValue(forKey: id) }) else { return }
        await child.kill(signal: SIGKILL)
    }

    /// Sends SIGKILL to node `id` without waiting (the caller times what follows).
    func sendKill(node id: UInt64) -> ChildProcess? {
        guard let child = processes.withLock({ $0.removeValue(forKey: id) }) else { return nil }
        _ = Glibc.kill(child.pid, SIGKILL)
        return child
    }

    /// Kills every node that still runs, removes the directory, releases the ports.
    func shutdown() async {
        let all = processes.withLock { processes in
            defer { processes = [:] }
            return Array(processes.values)
        }
        await withTaskGroup(of: Void.self) { group in
            for child in all { group.addTask { await child.kill(signal: SIGKILL) } }
        }
        try? FileManager.default.removeItem(at: directory)
        ports.forEach { $0.release() }
    }

    /// Forms a cluster: node 1 first, then the others in parallel (each joins through node 1).
    static func start(
        nodes: Int, latencyMilliseconds: Int, extraArguments: @escaping @Sendable (UInt64) -> [String]
    ) async throws -> ProcessCluster {
        let binary = try TestEnvironment.dqliteNodeBinary()
        let ports = try await LoopbackPorts.reserve(count: nodes)
        let directory: URL
        do {
            directory = try TestEnvironment.makeTemporaryDirectory("swift-dqlite-processes")
        } catch {
            ports.forEach { $0.release() }
            throw error
        }
        let cluster = ProcessCluster(
            binary: binary, directory: directory, ports: ports, latencyMilliseconds: latencyMilliseconds,
            extraArguments: extraArguments)
        let clock = ContinuousClock()
        let began = clock.now
        do {
            try await cluster.start(node: 1, join: false)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for id in cluster.nodeIDs.dropFirst() {
                    group.addTask { try await cluster.start(node: id, join: true) }
                }
                try await group.waitForAll()
            }
        } catch {
            let logs = cluster.nodeIDs.map { "node \($0):\n\(cluster.log(of: $0))" }.joined(separator: "\n")
            await cluster.shutdown()
            throw TestFailure(description: "the dqlite-node cluster did not form: \(error)\n\(logs)")
        }
        cluster.formation.withLock { $0 = clock.now - began }
        return cluster
    }
}

/// Runs `body` with a cluster of `nodes` dqlite-node processes; always kills them and removes their data.
func withProcessCluster<Result>(
    nodes: Int, latencyMilliseconds: Int = 20, extraArguments: @escaping @Sendable (UInt64) -> [String] = { _ in [] },
    isolation: isolated (any Actor)? = #isolation, _ body: (ProcessCluster) async throws -> Result
) async throws -> Result {
    let cluster = try await ProcessCluster.start(
        nodes: nodes, latencyMilliseconds: latencyMilliseconds, extraArguments: extraArguments)
    do {
        let result = try await body(cluster)
        await cluster.shutdown()
        return result
    } catch {
        await cluster.shutdown()
        throw error
    }
}
