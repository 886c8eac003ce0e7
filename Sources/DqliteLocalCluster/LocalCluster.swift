import DqliteServer
import DqliteWire
import Foundation
import Synchronization

/// A running local dqlite cluster on loopback, for tests, examples, benchmarks and fault injection.
///
/// Create one with ``withLocalCluster(nodes:generation:options:isolation:_:)``, which tears it down
/// (stops every node, ends child processes, removes the data directories, releases the ports) also
/// when the body throws. Nodes are numbered 1…N; node *i* has id *i* and address `addresses[i - 1]`.
/// Node 1 bootstraps the cluster; nodes 2…N are added as voters.
public final class LocalCluster: Sendable {
    /// The server generation the nodes run.
    public let generation: DqliteGeneration
    /// The node ids, `1...size`.
    public let nodeIDs: [UInt64]
    /// The nodes' addresses (`127.0.0.1:port`), in id order.
    public let addresses: [String]
    /// The nodes' data directories, in id order.
    public let dataDirectories: [String]
    /// The cluster's temporary directory (parent of the data directories).
    public let directory: String
    /// The server library version: for 1.11, the host's `dqlite.pc` version (libdqlite's own version
    /// number says 1.10.0 on Debian's 1.11.1); for 1.18, what the node reports (e.g. `"1.18.7"`).
    public var serverVersion: String { shared.withLock { $0.serverVersion } }
    /// How long forming the cluster took: starting every node, joining, and waiting for all voters.
    public var formationDuration: Duration { shared.withLock { $0.formationDuration } }

    let options: LocalClusterOptions
    private let ports: [LoopbackPortReservation]
    private let script: Dqlite118Script?
    private let shared: Mutex<Shared>

    private struct Shared {
        var slots: [Slot]
        var serverVersion: String
        var formationDuration: Duration = .zero
        /// Set when teardown begins; no node is started afterwards.
        var isShutDown = false
    }

    /// One node's process state.
    private enum Slot {
        case stopped
        /// A start or stop is in progress.
        case busy
        case inProcess(DqliteNode)
        case childProcess(pid: Int32)

        var isRunning: Bool {
            switch self {
            case .inProcess, .childProcess: return true
            case .stopped, .busy: return false
            }
        }
    }

    private init(
        generation: DqliteGeneration, ports: [LoopbackPortReservation], directory: String,
        options: LocalClusterOptions, script: Dqlite118Script?
    ) {
        self.generation = generation
        self.ports = ports
        self.nodeIDs = (1...ports.count).map { UInt64($0) }
        self.addresses = ports.map(\.address)
        self.directory = directory
        self.dataDirectories = nodeIDs.map { "\(directory)/node\($0)" }
        self.options = options
        self.script = script
        self.shared = Mutex(
            Shared(
                slots: Array(repeating: .stopped, count: ports.count),
                serverVersion: generation == .v1_11 ? Self.hostLibraryVersion() : "1.18"))
    }

    /// The `Version:` of the host's `dqlite.pc`, or `"1.11 (unknown patch)"`.
    private static func hostLibraryVersion() -> String {
        let candidates = [
            "/usr/lib/x86_64-linux-gnu/pkgconfig/dqlite.pc", "/usr/lib/aarch64-linux-gnu/pkgconfig/dqlite.pc",
            "/usr/lib/pkgconfig/dqlite.pc", "/usr/local/lib/pkgconfig/dqlite.pc",
        ]
        for path in candidates {
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            for line in String(decoding: data, as: UTF8.self).split(separator: "\n") where line.hasPrefix("Version:") {
                return line.dropFirst("Version:".count).trimmingCharacters(in: .whitespaces)
            }
        }
        return "1.11 (unknown patch)"
    }

    /// The number of nodes.
    public var size: Int { nodeIDs.count }

    /// The address of node `id`.
    public func address(of id: UInt64) throws -> String {
        addresses[try index(of: id)]
    }

    /// The data directory of node `id`.
    public func dataDirectory(of id: UInt64) throws -> String {
        dataDirectories[try index(of: id)]
    }

    /// Whether node `id` is running.
    public func isRunning(node id: UInt64) -> Bool {
        guard let index = try? index(of: id) else { return false }
        return shared.withLock { $0.slots[index].isRunning }
    }

    /// The in-process node `id` (``DqliteGeneration/v1_11`` only; nil while stopped).
    public func inProcessNode(_ id: UInt64) -> DqliteNode? {
        guard let index = try? index(of: id) else { return nil }
        return shared.withLock { shared in
            if case .inProcess(let node) = shared.slots[index] { return node }
            return nil
        }
    }

    /// Addresses of the nodes that are running.
    public var runningAddresses: [String] {
        shared.withLock { shared in
            zip(addresses, shared.slots).filter { $0.1.isRunning }.map(\.0)
        }
    }

    /// The leader's address, asking the running nodes (LEADER) until one knows it.
    public func leaderAddress(timeout: Duration = .seconds(15)) async throws -> String {
        try await leader(timeout: timeout).address
    }

    /// The leader's id and address, asking the running nodes (LEADER) until one knows it.
    public func leader(timeout: Duration = .seconds(15)) async throws -> (id: UInt64, address: String) {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while true {
            try Task.checkCancellation()
            if let leader = await ClusterFormation.leader(among: runningAddresses) { return leader }
            guard ContinuousClock.now < deadline else {
                throw LocalClusterError(.noLeader, "no running node reported a leader within \(timeout)")
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    /// The members as the leader lists them (CLUSTER, format 1: id, address, role 0 voter / 1 standby /
    /// 2 spare).
    public func members(timeout: Duration = .seconds(15)) async throws -> [NodeInfo] {
        try await ClusterFormation.members(at: try await leaderAddress(timeout: timeout))
    }

    /// Waits until every node in the cluster is a voter and every running node reports the same leader.
    public func waitUntilAllVoters(timeout: Duration = .seconds(30)) async throws {
        try await ClusterFormation.waitForVoters(
            ids: nodeIDs, addresses: runningAddresses, deadline: ContinuousClock.now.advanced(by: timeout))
    }

    /// Stops node `id` (in-process: ``DqliteServer/DqliteNode/stop()``; 1.18: `dqlite118.sh stop`). Its data
    /// directory and port stay reserved, so ``restart(node:)`` brings it back with the same identity.
    public func stop(node id: UInt64) async throws {
        let index = try index(of: id)
        let slot = try shared.withLock { shared -> Slot in
            let slot = shared.slots[index]
            guard slot.isRunning else { throw LocalClusterError(.invalidNode, "node \(id) is not running") }
            shared.slots[index] = .busy
            return slot
        }
        do {
            try await stopSlot(slot, index: index)
        } catch {
            shared.withLock { $0.slots[index] = .stopped }
            throw error
        }
        shared.withLock { $0.slots[index] = .stopped }
    }

    /// Starts node `id` again on its data directory and address (stopping it first if it runs). No join
    /// is needed: the data directory holds the cluster configuration.
    public func restart(node id: UInt64) async throws {
        if isRunning(node: id) { try await stop(node: id) }
        try await start(node: id)
    }

    /// Starts a stopped node.
    private func start(node id: UInt64) async throws {
        let index = try index(of: id)
        try shared.withLock { shared in
            guard !shared.isShutDown else { throw LocalClusterError(.invalidNode, "the cluster is shut down") }
            guard case .stopped = shared.slots[index] else {
                throw LocalClusterError(.invalidNode, "node \(id) is not stopped")
            }
            shared.slots[index] = .busy
        }
        do {
            let slot = try await startSlot(index: index)
            let lateForTeardown = shared.withLock { shared -> Bool in
                shared.slots[index] = shared.isShutDown ? .stopped : slot
                return shared.isShutDown
            }
            if lateForTeardown {
                // Teardown began while this node was starting (an unstructured caller): stop it here.
                try? await stopSlot(slot, index: index)
                throw LocalClusterError(.invalidNode, "the cluster was shut down while node \(id) started")
            }
        } catch {
            shared.withLock { $0.slots[index] = .stopped }
            throw error
        }
    }

    private func startSlot(index: Int) async throws -> Slot {
        let id = nodeIDs[index]
        let address = addresses[index]
        switch generation {
        case .v1_11:
            do {
                let node = try await DqliteNode(
                    id: id, address: address, dataDirectory: dataDirectories[index],
                    options: DqliteNode.Options(networkLatency: options.networkLatency))
                do {
                    try await node.start()
                } catch {
                    try? await node.stop()
                    throw error
                }
                return .inProcess(node)
            } catch {
                throw LocalClusterError(.nodeStart, "in-process node \(id) at \(address): \(error)")
            }
        case .v1_18:
            guard let script else { throw LocalClusterError(.generationUnavailable, "no dqlite118.sh") }
            let started = try await script.start(
                id: id, address: address, dataDirectory: dataDirectories[index],
                networkLatencyMilliseconds: options.networkLatencyMilliseconds)
            shared.withLock { $0.serverVersion = started.libraryVersion }
            return .childProcess(pid: started.pid)
        }
    }

    private func stopSlot(_ slot: Slot, index: Int) async throws {
        switch slot {
        case .inProcess(let node):
            do {
                try await node.stop()
            } catch {
                throw LocalClusterError(.nodeStop, "in-process node \(nodeIDs[index]): \(error)")
            }
        case .childProcess(let pid):
            guard let script else { return }
            try await script.stop(address: addresses[index], pid: pid)
        case .stopped, .busy:
            return
        }
    }

    private func index(of id: UInt64) throws -> Int {
        guard id >= 1, id <= UInt64(nodeIDs.count) else {
            throw LocalClusterError(.invalidNode, "no node \(id) in a cluster of \(nodeIDs.count)")
        }
        return Int(id) - 1
    }

    // MARK: - Formation and teardown

    /// Reserves ports, creates the directories, starts node 1 (bootstrap) and nodes 2…N, joins them as
    /// voters and waits for the whole cluster. Tears down whatever was started if any step fails.
    static func start(nodes: Int, generation: DqliteGeneration, options: LocalClusterOptions) async throws
        -> LocalCluster
    {
        guard nodes >= 1 else {
            throw LocalClusterError(.invalidNode, "a cluster needs at least one node, not \(nodes)")
        }
        let clock = ContinuousClock()
        var script: Dqlite118Script?
        if generation == .v1_18 {
            // Not counted in formationTimeout: the first setup on a machine builds the chroot (about a minute).
            let located = try Dqlite118Script.locate()
            try await located.setup()
            script = located
        }
        let deadline = clock.now.advanced(by: options.formationTimeout)
        let ports = try await LoopbackPorts.reserve(count: nodes)
        let directory: String
        do {
            directory = try await makeTemporaryDirectory(in: options.parentDirectory)
        } catch {
            ports.forEach { $0.release() }
            throw error
        }
        let cluster = LocalCluster(
            generation: generation, ports: ports, directory: directory, options: options, script: script)
        let formationBegan = clock.now
        do {
            try await cluster.start(node: 1)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for id in cluster.nodeIDs.dropFirst() {
                    group.addTask { try await cluster.start(node: id) }
                }
                try await group.waitForAll()
            }
            for id in cluster.nodeIDs.dropFirst() {
                try await ClusterFormation.join(
                    id: id, address: try cluster.address(of: id), via: cluster.addresses, deadline: deadline)
            }
            try await ClusterFormation.waitForVoters(
                ids: cluster.nodeIDs, addresses: cluster.addresses, deadline: deadline)
        } catch {
            _ = await cluster.shutdown()
            throw error
        }
        let formed = clock.now - formationBegan
        cluster.shared.withLock { $0.formationDuration = formed }
        return cluster
    }

    /// Stops every running node (in parallel), removes the directory (unless
    /// ``LocalClusterOptions/keepDataDirectories``), releases the ports. Never throws: returns the problems.
    func shutdown() async -> [any Error] {
        let running: [(Int, Slot)] = shared.withLock { shared in
            shared.isShutDown = true
            var running: [(Int, Slot)] = []
            for index in shared.slots.indices where shared.slots[index].isRunning {
                running.append((index, shared.slots[index]))
                shared.slots[index] = .busy
            }
            return running
        }
        var problems: [any Error] = []
        await withTaskGroup(of: (any Error)?.self) { group in
            for (index, slot) in running {
                group.addTask {
                    do {
                        try await self.stopSlot(slot, index: index)
                        return nil
                    } catch {
                        return error
                    }
                }
            }
            for await problem in group {
                if let problem { problems.append(problem) }
            }
        }
        shared.withLock { shared in
            for (index, _) in running { shared.slots[index] = .stopped }
        }
        if !options.keepDataDirectories {
            let directory = self.directory
            do {
                try await BlockingWork.uncancellable { try FileManager.default.removeItem(atPath: directory) }
            } catch {
                problems.append(LocalClusterError(.fileSystem, "cannot remove \(directory): \(error)"))
            }
        }
        ports.forEach { $0.release() }
        return problems
    }

    /// `mkdtemp(<parent>/swift-dqlite-cluster-XXXXXX)`, on the blocking pool.
    private static func makeTemporaryDirectory(in parent: String) async throws -> String {
        try await BlockingWork.run {
            var template = Array("\(parent)/swift-dqlite-cluster-XXXXXX".utf8CString)
            let created = template.withUnsafeMutableBufferPointer { buffer -> String? in
                guard let base = buffer.baseAddress, let result = mkdtemp(base) else { return nil }
                return String(cString: result)
            }
            guard let created else {
                let number = errno
                throw LocalClusterError(
                    .fileSystem, "cannot create a directory in \(parent): \(String(cString: strerror(number)))")
            }
            return created
        }
    }
}
