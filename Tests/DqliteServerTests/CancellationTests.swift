import DqliteLocalCluster
import DqliteServer
import Synchronization
import Testing

/// Lifecycle steps and teardown must run to completion in a cancelled task (cleanup paths usually run in
/// one).
@Suite("Cancellation")
struct CancellationTests {
    @Test("stop() in a cancelled task still stops the node")
    func stopWhenCancelled() async throws {
        try await withScratch { directory, ports in
            let address = "127.0.0.1:\(ports[0])"
            let node = try await DqliteNode(id: 1, address: address, dataDirectory: directory)
            try await node.start()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.cancelAll()
                group.addTask {
                    #expect(Task.isCancelled)
                    try await node.stop()
                }
                try await group.waitForAll()
            }
            #expect(node.state == .stopped)
            #expect(await isRefusingConnections(address))
        }
    }

    @Test("a cancelled cluster body still tears the cluster down", arguments: DqliteGeneration.allCases)
    func clusterTeardownWhenCancelled(_ generation: DqliteGeneration) async throws {
        let seen = Recorder()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                _ = try? await withLocalCluster(nodes: 2, generation: generation) { cluster in
                    seen.record(cluster.directory, cluster.addresses)
                    try await Task.sleep(for: .seconds(120))
                }
            }
            while seen.value == nil {
                try? await Task.sleep(for: .milliseconds(20))
            }
            group.cancelAll()
        }
        let cluster = try #require(seen.value)
        #expect(await !directoryExists(cluster.directory))
        for address in cluster.addresses {
            #expect(await isRefusingConnections(address))
        }
    }
}

/// What a cluster body saw, handed out of a child task.
private final class Recorder: Sendable {
    private let state = Mutex<(directory: String, addresses: [String])?>(nil)

    var value: (directory: String, addresses: [String])? { state.withLock { $0 } }

    func record(_ directory: String, _ addresses: [String]) {
        state.withLock { $0 = (directory, addresses) }
    }
}
