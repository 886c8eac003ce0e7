import Dqlite
import DqliteLocalCluster
import DqliteTestSupport
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

// Adapted from Tests/DqliteIntegrationTests/Support/ProcessCluster.swift: nodes are dqlite-node processes, but
// each sits behind a FaultProxy (it advertises the proxy with --address and listens on --bind), nodes are
// tracked by id in "slots" (a proxy + a bind port) so that they can be killed, paused, restarted on their data,
// removed, and new nodes added, and the leader is found by asking every node directly on its bind address.

/// A dqlite cluster of `dqlite-node` processes on loopback, each behind a ``FaultProxy``.
///
/// Slot *i* has a proxy (the node's advertised address, which clients and peers dial) and a bind port (where
/// the node listens). Node ids are never reused (id 1 would bootstrap a new cluster on an empty directory).
final class NodeCluster: Sendable {
    /// One place a node can run.
    struct Slot: Sendable {
        let index: Int
        let proxy: FaultProxy
        let bind: String
        var address: String { proxy.address }
    }

    /// A node the cluster started (running, paused, or stopped with its data kept).
    struct Node: Sendable {
        let id: UInt64
        let slot: Int
        var process: ChildProcess?
        var paused = false
    }

    let binary: String
    let directory: URL
    let latencyMilliseconds: Int
    let slots: [Slot]
    private let reservations: [LoopbackPortReservation]
    private let nodes = Mutex<[UInt64: Node]>([:])
    private let freedSlots = Mutex<[Int]>([])
    private let nextID = Mutex<UInt64>(1)

    private init(
        binary: String, directory: URL, latencyMilliseconds: Int, slots: [Slot],
        reservations: [LoopbackPortReservation]
    ) {
        self.binary = binary
        self.directory = directory
        self.latencyMilliseconds = latencyMilliseconds
        self.slots = slots
        self.reservations = reservations
    }

    /// Every proxy address (the client's seeds).
    var addresses: [String] { slots.map(\.address) }

    /// Ids of nodes whose process runs (paused or not).
    var runningIDs: [UInt64] {
        nodes.withLock { $0.values.filter { $0.process?.isRunning == true }.map(\.id).sorted() }
    }

    /// Ids of nodes that run and are not paused.
    var liveIDs: [UInt64] {
        nodes.withLock { $0.values.filter { $0.process?.isRunning == true && !$0.paused }.map(\.id).sorted() }
    }

    /// Every node the cluster knows (members, running or not).
    var memberIDs: [UInt64] { nodes.withLock { Array($0.keys).sorted() } }

    func node(_ id: UInt64) -> Node? { nodes.withLock { $0[id] } }

    func slot(of id: UInt64) throws -> Slot {
        guard let node = node(id) else { throw FaultTestFailure("no node \(id)") }
        return slots[node.slot]
    }

    func proxy(of id: UInt64) throws -> FaultProxy { try slot(of: id).proxy }

    /// The node id advertising `address`.
    func id(of address: String) -> UInt64? {
        nodes.withLock { nodes in nodes.values.first { slots[$0.slot].address == address }?.id }
    }

    func dataDirectory(of id: UInt64) -> URL { directory.appendingPathComponent("node\(id)") }

    func logFile(of id: UInt64) -> URL { directory.appendingPathComponent("node\(id).log") }

    /// The last lines every node wrote (for failure messages).
    func logs() -> String {
        memberIDs.map { id in
            let text = (try? String(contentsOf: logFile(of: id), encoding: .utf8)) ?? ""
            return "node \(id):\n" + String(text.suffix(1500))
        }.joined(separator: "\n")
    }

    /// Starts a cluster of `voters` nodes: node 1 bootstraps, the others join through it.
    static func start(voters: Int, spareSlots: Int, latencyMilliseconds: Int) async throws -> NodeCluster {
        let binary = try FaultEnvironment.dqliteNodeBinary()
        let count = voters + spareSlots
        let reservations = try await LoopbackPorts.reserve(count: 2 * count)
        var slots: [Slot] = []
        let directory: URL
        do {
            directory = try FaultEnvironment.makeTemporaryDirectory("swift-dqlite-faults")
            for index in 0..<count {
                let proxy = try FaultProxy(
                    target: reservations[2 * index + 1].address, reservation: reservations[2 * index])
                slots.append(Slot(index: index, proxy: proxy, bind: reservations[2 * index + 1].address))
            }
        } catch {
            for slot in slots { await slot.proxy.stop() }
            reservations.forEach { $0.release() }
            throw error
        }
        let cluster = NodeCluster(
            binary: binary, directory: directory, latencyMilliseconds: latencyMilliseconds, slots: slots,
            reservations: reservations)
        cluster.recordDirectory()
        cluster.freedSlots.withLock { $0 = Array(voters..<count) }
        do {
            let first = try await cluster.add(slot: 0, join: [])
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 1..<voters {
                    group.addTask { _ = try await cluster.add(slot: index, join: [cluster.slots[0].address]) }
                }
                try await group.waitForAll()
            }
            _ = first
        } catch {
            let logs = cluster.logs()
            await cluster.shutdown()
            throw FaultTestFailure("the cluster did not form: \(error)\n\(logs)")
        }
        return cluster
    }

    /// Lists the cluster's directory in the results directory (scripts/faults.sh reaps leftovers from it).
    private func recordDirectory() {
        let list = FaultEnvironment.resultsDirectory.appendingPathComponent("clusters.txt")
        try? FileManager.default.createDirectory(
            at: FaultEnvironment.resultsDirectory, withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: list.path) {
            FileManager.default.createFile(atPath: list.path, contents: nil)
        }
        guard let handle = try? FileHandle(forWritingTo: list) else { return }
        handle.seekToEndOfFile()
        handle.write(Data((directory.path + "\n").utf8))
        try? handle.close()
    }

    /// Starts a new node (a fresh id) in `slot` and waits for READY: it bootstraps (no `join`, id 1 only) or
    /// joins through `join` with `role`.
    func add(slot index: Int, join: [String], role: String = "voter") async throws -> UInt64 {
        let id = nextID.withLock { id -> UInt64 in
            defer { id += 1 }
            return id
        }
        nodes.withLock { $0[id] = Node(id: id, slot: index, process: nil) }
        try await launch(id, join: join, role: role)
        return id
    }

    /// Starts a node in a free slot (the one freed longest ago) joining through the live nodes.
    func addNode(role: String) async throws -> UInt64 {
        guard
            let index = freedSlots.withLock({ slots -> Int? in
                slots.isEmpty ? nil : slots.removeFirst()
            })
        else { throw FaultTestFailure("no free slot for a new node") }
        do {
            return try await add(slot: index, join: liveIDs.compactMap { try? slot(of: $0).address }, role: role)
        } catch {
            freedSlots.withLock { $0.append(index) }
            throw error
        }
    }

    /// Restarts a stopped node on its data directory (it rejoins as the member it was).
    func restart(_ id: UInt64) async throws {
        guard node(id)?.process?.isRunning != true else { return }
        try await launch(id, join: [], role: "voter")
    }

    private func launch(_ id: UInt64, join: [String], role: String) async throws {
        let slot = try slot(of: id)
        var arguments = [
            "--id", "\(id)", "--address", slot.address, "--bind", slot.bind, "--data-dir", dataDirectory(of: id).path,
            "--network-latency-ms", "\(latencyMilliseconds)",
        ]
        if !join.isEmpty {
            arguments += ["--join", join.joined(separator: ","), "--role", role, "--join-timeout", "30"]
        }
        let child = try ChildProcess.launch(binary, arguments, log: logFile(of: id))
        // For scripts/faults.sh's clean-up, should this process die without stopping its nodes.
        try? Data("\(child.pid)\n".utf8).write(to: directory.appendingPathComponent("node\(id).pid"))
        nodes.withLock {
            $0[id]?.process = child
            $0[id]?.paused = false
        }
        do {
            try await child.waitForOutput(containing: "READY id=\(id) ", timeout: .seconds(60))
        } catch {
            await child.kill()
            throw error
        }
    }

    /// `kill -9`; returns once the process is gone. The data stays.
    func kill(_ id: UInt64) async {
        guard let child = node(id)?.process else { return }
        child.signal(SIGKILL)
        _ = await child.waitForExit(timeout: .seconds(10))
        nodes.withLock { $0[id]?.paused = false }
    }

    /// SIGTERM (the node hands leadership over, then stops); returns its output of this run.
    func terminate(_ id: UInt64) async -> String {
        guard let child = node(id)?.process else { return "" }
        await child.kill(signal: SIGTERM, grace: .seconds(20))
        nodes.withLock { $0[id]?.paused = false }
        return child.output()
    }

    /// SIGSTOP.
    func pause(_ id: UInt64) {
        guard let child = node(id)?.process else { return }
        child.signal(SIGSTOP)
        nodes.withLock { $0[id]?.paused = true }
    }

    /// SIGCONT.
    func resume(_ id: UInt64) {
        guard let child = node(id)?.process else { return }
        child.signal(SIGCONT)
        nodes.withLock { $0[id]?.paused = false }
    }

    /// Forgets a node that was removed from the cluster: kills it, deletes its data, frees its slot.
    func discard(_ id: UInt64) async {
        await kill(id)
        guard let node = nodes.withLock({ $0.removeValue(forKey: id) }) else { return }
        try? FileManager.default.removeItem(at: dataDirectory(of: id))
        freedSlots.withLock { $0.append(node.slot) }
    }

    /// The leader as the live nodes see it: the node that names itself (asked directly on its bind address).
    /// Nil if none does.
    func leader(timeout: Duration = .milliseconds(500)) async -> UInt64? {
        let live = liveIDs.compactMap { id -> (UInt64, String)? in
            guard let slot = try? slot(of: id) else { return nil }
            return (id, slot.bind)
        }
        return await withTaskGroup(of: UInt64?.self) { group in
            for (id, bind) in live {
                group.addTask {
                    guard let (leaderID, _) = await Self.askLeader(bind, timeout: timeout) else { return nil }
                    return leaderID == id ? id : nil
                }
            }
            var found: UInt64?
            for await answer in group where answer != nil { found = answer }
            return found
        }
    }

    /// The leader id `bind` reports (0 for none), or nil if it does not answer.
    static func askLeader(_ bind: String, timeout: Duration) async -> (UInt64, String)? {
        let configuration = DqliteConnection.Configuration(connectTimeout: timeout, defaultCallTimeout: timeout)
        guard let address = try? DqliteNodeAddress(bind) else { return nil }
        return try? await DqliteConnection.withConnection(to: address, configuration: configuration) { connection in
            guard case .server(let id, let address) = try await connection.call(.leader) else {
                throw FaultTestFailure("LEADER answered something else")
            }
            return (id, address)
        }
    }

    /// Waits until a leader is known and every live node names it; returns it.
    func waitForStableLeader(timeout: Duration = .seconds(30)) async throws -> UInt64 {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let leader = await leader() {
                let live = liveIDs.compactMap { try? slot(of: $0).bind }
                var agreeing = 0
                for bind in live {
                    if let (id, _) = await Self.askLeader(bind, timeout: .milliseconds(500)), id == leader {
                        agreeing += 1
                    }
                }
                if agreeing == live.count { return leader }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw FaultTestFailure("no stable leader within \(timeout) (live: \(liveIDs))\n\(logs())")
    }

    /// The kernel's state letter for a process (`R`, `S`, `T` for stopped, …), from `/proc/<pid>/stat`.
    static func processState(_ pid: Int32) -> String {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return "?" }
        return String(text[text.index(after: close)...].dropFirst().prefix(1))
    }

    /// Every node as the suite tracks it and as it answers (LEADER and CLUSTER, asked on its bind address):
    /// for incident reports.
    func describe() async -> String {
        var lines: [String] = []
        for id in memberIDs {
            guard let node = node(id) else { continue }
            let slot = slots[node.slot]
            let pid = node.process?.pid ?? 0
            var line =
                "node \(id) slot \(node.slot) \(slot.address)->\(slot.bind) pid \(pid) "
                + "running \(node.process?.isRunning == true) paused \(node.paused) state \(Self.processState(pid))"
            if node.process?.isRunning == true && !node.paused {
                let leader = await Self.askLeader(slot.bind, timeout: .milliseconds(500))
                line += " leader \(leader.map { "\($0.0)@\($0.1)" } ?? "?")"
                let configuration = DqliteConnection.Configuration(
                    connectTimeout: .milliseconds(500), defaultCallTimeout: .milliseconds(500))
                if let address = try? DqliteNodeAddress(slot.bind),
                    let members = try? await DqliteConnection.withConnection(
                        to: address, configuration: configuration, { try await $0.call(.cluster(format: 1)) })
                {
                    line += " cluster \(members)"
                }
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }

    /// Followers: live voters other than the leader.
    func followers(of leader: UInt64) -> [UInt64] { liveIDs.filter { $0 != leader } }

    /// Kills every process, stops the proxies, removes the data, releases the ports.
    func shutdown() async {
        let all = nodes.withLock { Array($0.values) }
        await withTaskGroup(of: Void.self) { group in
            for node in all {
                if let child = node.process {
                    group.addTask {
                        child.signal(SIGCONT)
                        await child.kill(signal: SIGKILL)
                    }
                }
            }
        }
        for slot in slots { await slot.proxy.stop() }
        try? FileManager.default.removeItem(at: directory)
        reservations.forEach { $0.release() }
    }
}

/// Runs `body` with a cluster; always stops every process and proxy (also when `body` throws).
func withNodeCluster<Result>(
    voters: Int, spareSlots: Int, latencyMilliseconds: Int, isolation: isolated (any Actor)? = #isolation,
    _ body: (NodeCluster) async throws -> Result
) async throws -> Result {
    let cluster = try await NodeCluster.start(
        voters: voters, spareSlots: spareSlots, latencyMilliseconds: latencyMilliseconds)
    do {
        let result = try await body(cluster)
        await cluster.shutdown()
        return result
    } catch {
        await cluster.shutdown()
        throw error
    }
}
