import Dqlite
import DqliteLocalCluster
import DqliteTestSupport
import Foundation

/// A 3-node cluster of Debian's `dqlite-demo` (go-dqlite 1.11.5's `app` package on libdqlite 1.11.1): an
/// implementation of node management we did not write. Its node ids are random (the first node gets
/// go-dqlite's bootstrap id) and it manages roles itself: joiners start as spares and are promoted.
///
/// Each node serves its demo HTTP API (`GET/PUT /<key>` on table `model` of database `demo`) once it is
/// ready.
final class DemoCluster: Sendable {
    /// The dqlite (database) addresses, node by node.
    let databaseAddresses: [String]
    /// The HTTP API addresses, node by node.
    let apiAddresses: [String]
    let directory: URL
    /// From starting the first node until three voters were listed.
    let formationDuration: Duration
    private let ports: [LoopbackPortReservation]
    private let children: [ChildProcess]

    private init(
        ports: [LoopbackPortReservation], directory: URL, children: [ChildProcess], formationDuration: Duration
    ) {
        self.formationDuration = formationDuration
        self.ports = ports
        self.directory = directory
        self.children = children
        let count = ports.count / 2
        self.databaseAddresses = ports.prefix(count).map(\.address)
        self.apiAddresses = ports.suffix(count).map(\.address)
    }

    /// Every node's log.
    var logs: String {
        children.enumerated().map { "dqlite-demo \($0.offset + 1):\n\($0.element.output())" }.joined(separator: "\n")
    }

    /// Starts three nodes (the second and third join through the first) and waits until the cluster lists
    /// three voters.
    static func start(timeout: Duration = .seconds(45)) async throws -> DemoCluster {
        let program = try TestEnvironment.program("dqlite-demo", package: "go-dqlite")
        let ports = try await LoopbackPorts.reserve(count: 6)
        let directory: URL
        do {
            directory = try TestEnvironment.makeTemporaryDirectory("swift-dqlite-demo")
        } catch {
            ports.forEach { $0.release() }
            throw error
        }
        var children: [ChildProcess] = []
        func stopAll() async {
            for child in children { await child.kill() }
            try? FileManager.default.removeItem(at: directory)
            ports.forEach { $0.release() }
        }
        let database = ports.prefix(3).map(\.address)
        let api = ports.suffix(3).map(\.address)
        let began = ContinuousClock.now
        let deadline = began + timeout
        do {
            for index in 0..<3 {
                var arguments = [
                    "--api", api[index], "--db", database[index], "--dir",
                    directory.appendingPathComponent("node\(index + 1)").path,
                ]
                if index > 0 { arguments += ["--join", database[0]] }
                let child = try ChildProcess.launch(
                    program, arguments, log: directory.appendingPathComponent("node\(index + 1).log"))
                children.append(child)
                // The API listens once the node is ready (joined, `demo` opened, schema created).
                try await waitUntilListening(api[index], child: child, deadline: deadline)
            }
            let admin = DqliteClusterAdmin(
                seeds: try nodeAddresses(database), configuration: TestEnvironment.admin())
            while true {
                if let members = try? await admin.cluster(), members.count == 3,
                    members.allSatisfy({ $0.role == .voter })
                {
                    break
                }
                guard ContinuousClock.now < deadline else {
                    throw TestFailure(
                        description: "dqlite-demo did not promote three voters within \(timeout): "
                            + "\((try? await admin.cluster())?.description ?? "no answer")")
                }
                try await Task.sleep(for: .milliseconds(100))
            }
        } catch {
            let logs = children.enumerated().map { "dqlite-demo \($0.offset + 1):\n\($0.element.output())" }
            await stopAll()
            throw TestFailure(description: "the dqlite-demo cluster did not form: \(error)\n\(logs.joined())")
        }
        return DemoCluster(
            ports: ports, directory: directory, children: children, formationDuration: ContinuousClock.now - began)
    }

    private static func waitUntilListening(_ address: String, child: ChildProcess, deadline: ContinuousClock.Instant)
        async throws
    {
        let port = Int(address.split(separator: ":").last ?? "") ?? 0
        while !TLSFixture.isListening(port: port) {
            guard child.isRunning else {
                throw TestFailure(description: "\(child.commandLine) exited:\n\(child.output())")
            }
            guard ContinuousClock.now < deadline else {
                throw TestFailure(description: "\(child.commandLine) did not listen on \(address):\n\(child.output())")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Stops every node (SIGTERM: go-dqlite hands over and closes; SIGKILL after 3 s), removes the data,
    /// releases the ports.
    func shutdown() async {
        await withTaskGroup(of: Void.self) { group in
            for child in children { group.addTask { await child.terminate(grace: .seconds(3)) } }
        }
        try? FileManager.default.removeItem(at: directory)
        ports.forEach { $0.release() }
    }
}

/// Runs `body` with a 3-node dqlite-demo cluster; always stops it.
func withDemoCluster<Result>(
    isolation: isolated (any Actor)? = #isolation, _ body: (DemoCluster) async throws -> Result
) async throws -> Result {
    let cluster = try await DemoCluster.start()
    do {
        let result = try await body(cluster)
        await cluster.shutdown()
        return result
    } catch {
        await cluster.shutdown()
        throw error
    }
}
