import ArgumentParser
import Dqlite
import DqliteServer
import UnixSignals

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `dqlite-node`: runs one dqlite node as a process.
///
/// ```
/// dqlite-node --id 1 --address 127.0.0.1:9001 --data-dir /var/lib/dqlite/1
/// dqlite-node --id 2 --address 127.0.0.1:9002 --data-dir /var/lib/dqlite/2 --join 127.0.0.1:9001
/// ```
///
/// Prints `READY id=… address=… pid=…` once the node accepts connections (and has joined), and stops
/// cleanly on SIGTERM or SIGINT: leadership is handed to another voter first, then the node stops.
@main
struct DqliteNodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dqlite-node",
        abstract: "Run one dqlite node (libdqlite, embedded through swift-dqlite's DqliteServer).",
        discussion: """
            Node id 1 bootstraps a new single-voter cluster on an empty data directory. Other nodes join an \
            existing cluster with --join (the node finds the leader and asks to be added with the given role).
            """)

    @Option(help: "Node id (at least 1; keep it across restarts).")
    var id: UInt64

    @Option(help: "Address the node advertises to clients and peers (host:port or @name).")
    var address: String

    @Option(name: .customLong("data-dir"), help: "Data directory (created if missing).")
    var dataDirectory: String

    @Option(help: "Address to listen on, if it differs from --address (e.g. behind a proxy).")
    var bind: String?

    @Option(help: "Comma-separated addresses of cluster members to join through.")
    var join: String?

    @Option(help: "Role to take when joining: voter, standby or spare.")
    var role: String = "voter"

    @Option(
        name: .customLong("network-latency-ms"),
        help: "Expected one-way network latency; raft timeouts scale with it (20 gives ~0.3 s elections).")
    var networkLatencyMilliseconds: UInt?

    @Option(name: .customLong("failure-domain"), help: "Failure domain code.")
    var failureDomain: UInt64?

    @Option(help: "Weight (set with a WEIGHT request once running).")
    var weight: UInt64?

    @Option(name: .customLong("join-timeout"), help: "Seconds to keep trying to join.")
    var joinTimeout: Int = 60

    func run() async throws {
        guard let role = DqliteNodeRole(name: role) else {
            throw ValidationError("--role must be voter, standby or spare")
        }
        let seeds = try (join ?? "").split(separator: ",").map { try DqliteNodeAddress(String($0)) }
        var options = DqliteNode.Options()
        options.bindAddress = bind
        options.networkLatency = networkLatencyMilliseconds.map { .milliseconds(Int($0)) }
        options.failureDomain = failureDomain
        let node = try await DqliteNode(id: id, address: address, dataDirectory: dataDirectory, options: options)
        try await node.start()
        do {
            let own = try DqliteNodeAddress(node.address)
            if !seeds.isEmpty {
                let timeout = Duration.seconds(joinTimeout)
                let admin = DqliteClusterAdmin(
                    seeds: seeds,
                    configuration: .init(discovery: .init(timeout: timeout), confirmationTimeout: timeout))
                try await admin.add(id: id, address: own, role: role)
            }
            if let weight {
                try await DqliteClusterAdmin(seeds: [own]).setWeight(weight, node: own)
            }
        } catch {
            printLine("FAILED id=\(id) address=\(node.address): \(error)")
            try? await node.stop()
            throw ExitCode(1)
        }
        printLine("READY id=\(id) address=\(node.address) pid=\(getpid())")

        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint)
        for await signal in signals {
            printLine("STOPPING id=\(id) signal=\(signal)")
            break
        }
        if let newLeader = try? await node.handover() {
            printLine("HANDOVER id=\(id) leadership -> node \(newLeader)")
        }
        try await node.stop()
        printLine("STOPPED id=\(id)")
    }

    private func printLine(_ line: String) {
        print(line)
        fflush(nil)
    }
}
