import Dqlite
import DqliteTestSupport
import DqliteWire
import Foundation
import Testing

/// Interoperability with an implementation we did not write: Debian's go-dqlite 1.11.5 (`dqlite-demo`, a
/// go-dqlite `app` node; `dqlite`, the go-dqlite shell).
extension ProcessClusterTests {
    /// go-dqlite's `client.BootstrapID`: the id the first `app` node of a cluster takes.
    static let goBootstrapID: UInt64 = 0x2dc1_7185_8c31_55be

    @Test(
        "a dqlite-demo cluster (go-dqlite): our client finds the leader, runs SQL over the wire and lists the cluster")
    func demoInterop() async throws {
        let curl = try TestEnvironment.program("curl", package: "curl")
        try await withDemoCluster { demo in
            print("TIMING dqlite-demo 3-node cluster formation (until 3 voters): \(seconds(demo.formationDuration))")
            let seeds = try nodeAddresses(demo.databaseAddresses)
            // Seeded with the last node only (a joiner, not necessarily the leader).
            let discovery = DqliteLeaderDiscovery(seeds: [seeds[2]], configuration: TestEnvironment.discovery())
            let connection = try await discovery.connectToLeader()
            #expect(seeds.contains(connection.address))
            let answer = try await connection.call(.leader)
            guard case .server(let leaderID, let leaderAddress) = answer else {
                Issue.record("LEADER answered \(answer)")
                await connection.close()
                return
            }
            #expect(leaderAddress == connection.address.description)
            #expect(leaderID != 0)
            do {
                // The demo's own database and table (created by the go app) ...
                try await connection.open("demo")
                let written = try await connection.exec(
                    "INSERT OR REPLACE INTO model (key, value) VALUES (?, ?)",
                    [.text("from-swift"), .text("written by swift-dqlite")])
                #expect(written == 1)
                // ... and a table of ours, with parameters of several types.
                try await connection.exec("CREATE TABLE swift_interop (id INTEGER PRIMARY KEY, name TEXT, score REAL)")
                try await connection.exec(
                    "INSERT INTO swift_interop (name, score) VALUES (?, ?), (?, ?)",
                    [.text("alpha"), .float(1.5), .text("beta"), .null])
                #expect(
                    try await connection.query("SELECT id, name, score FROM swift_interop ORDER BY id") == [
                        [.integer(1), .text("alpha"), .float(1.5)], [.integer(2), .text("beta"), .null],
                    ])
                await connection.close()
            } catch {
                await connection.close()
                throw error
            }

            // go-dqlite's driver (behind the demo's HTTP API) reads what we wrote, on every node ...
            for api in demo.apiAddresses {
                #expect(
                    try await Subprocess.succeed(curl, ["-sS", "http://\(api)/from-swift"])
                        == "written by swift-dqlite\n")
            }
            // ... and we read what it wrote.
            #expect(
                try await Subprocess.succeed(
                    curl,
                    [
                        "-sS", "-X", "PUT", "--data-binary", "written by go-dqlite",
                        "http://\(demo.apiAddresses[1])/from-go",
                    ])
                    == "done\n")
            let reader = try await discovery.connectToLeader()
            do {
                try await reader.open("demo")
                #expect(
                    try await reader.query("SELECT value FROM model WHERE key = ?", [.text("from-go")]) == [
                        [.text("written by go-dqlite")]
                    ])
                await reader.close()
            } catch {
                await reader.close()
                throw error
            }

            // The members, as our admin lists them: go-dqlite's random ids, three voters (promoted by go-dqlite's
            // role management).
            let admin = DqliteClusterAdmin(seeds: seeds, configuration: TestEnvironment.admin())
            let members = try await admin.cluster()
            print("dqlite-demo cluster: \(members)")
            #expect(Set(members.map(\.address)) == Set(seeds))
            #expect(members.allSatisfy { $0.role == .voter })
            #expect(Set(members.map(\.id)).count == 3)
            #expect(members.contains { $0.id == Self.goBootstrapID && $0.address == seeds[0] })
            #expect(try await admin.leader().id == leaderID)
            for seed in seeds {
                try await eventually("\(seed) lists the same members") {
                    Set(try await admin.cluster(asSeenBy: seed)) == Set(members)
                }
            }
        }
    }

    @Test("Debian's dqlite shell (go-dqlite) drives a cluster of our dqlite-node processes")
    func goShellInterop() async throws {
        let shell = try TestEnvironment.program("dqlite", package: "go-dqlite")
        try await withProcessCluster(
            nodes: 3, extraArguments: { ["--failure-domain", "\($0 * 10)", "--weight", "\($0)"] }
        ) {
            cluster in
            let admin = DqliteClusterAdmin(
                seeds: try nodeAddresses(cluster.addresses), configuration: TestEnvironment.admin())
            let leader = try await admin.leader()
            let follower = try #require(cluster.addresses.first { $0 != leader.address.description })
            func dqlite(_ command: String, via server: String = follower) async throws -> String {
                try await Subprocess.succeed(shell, ["-s", server, "shell.db", command], timeout: .seconds(30))
            }

            #expect(try await dqlite(".leader") == "\(leader.address)\n")
            let listed = try await dqlite(".cluster").split(separator: "\n").map(String.init)
            #expect(Set(listed) == Set(cluster.nodeIDs.map { "\($0)|\(cluster.address(of: $0))|voter" }), "\(listed)")

            // SQL through the go driver (seeded with a follower: it finds the leader itself).
            #expect(try await dqlite("CREATE TABLE greetings (id INTEGER PRIMARY KEY, text TEXT)") == "")
            #expect(try await dqlite("INSERT INTO greetings (text) VALUES ('hello from go')") == "")
            // A row from our client in between.
            let connection = try await admin.discovery.connectToLeader()
            do {
                try await connection.open("shell.db")
                #expect(try await connection.query("SELECT text FROM greetings") == [[.text("hello from go")]])
                try await connection.exec("INSERT INTO greetings (text) VALUES (?)", [.text("hello from swift")])
                await connection.close()
            } catch {
                await connection.close()
                throw error
            }
            #expect(
                try await dqlite("SELECT id, text FROM greetings ORDER BY id")
                    == "1|hello from go\n2|hello from swift\n")
            #expect(try await dqlite("SELECT count(*) FROM greetings", via: leader.address.description) == "2\n")

            // An SQL error is reported by the shell.
            let (status, output) = try await Subprocess.run(
                shell, ["-s", follower, "shell.db", "SELECT nope FROM greetings"])
            #expect(status != 0)
            #expect(output.contains("no such column: nope"), "\(output)")

            // dqlite-node's --failure-domain and --weight, as DESCRIBE reports them.
            for id in cluster.nodeIDs {
                #expect(try await admin.describe(node: DqliteNodeAddress(cluster.address(of: id))) == (id * 10, id))
            }
        }
    }
}
