import DqliteShellCore
import DqliteWire
import Foundation
import Synchronization
import Testing

@Suite("Shell engine: cluster commands and .dump FILE")
struct ShellClusterCommandTests {
    private func clusterShell() -> ShellHarness {
        let fake = FakeDatabase()
        fake.state.withLock { state in
            state.members = [
                ShellNodeInfo(id: 1, address: "127.0.0.1:9001", role: .voter),
                ShellNodeInfo(id: 2, address: "127.0.0.1:9002", role: .voter),
                ShellNodeInfo(id: 3, address: "127.0.0.1:9003", role: .spare),
            ]
            state.unreachable = ["127.0.0.1:9003"]
        }
        return ShellHarness(fake)
    }

    @Test(".cluster lists members with the leader and reachability, in the current mode")
    func cluster() async {
        let shell = clusterShell()
        #expect(await shell.run(".cluster\n.mode json\n.cluster") == 0)
        #expect(
            shell.output.text == """
                +----+----------------+-------+--------+----------------------------------+
                | id |    address     | role  | leader |              status              |
                +----+----------------+-------+--------+----------------------------------+
                | 1  | 127.0.0.1:9001 | voter | yes    | reachable                        |
                | 2  | 127.0.0.1:9002 | voter | no     | reachable                        |
                | 3  | 127.0.0.1:9003 | spare | no     | unreachable (connection refused) |
                +----+----------------+-------+--------+----------------------------------+
                [{"id":1,"address":"127.0.0.1:9001","role":"voter","leader":"yes","status":"reachable"},
                {"id":2,"address":"127.0.0.1:9002","role":"voter","leader":"no","status":"reachable"},
                {"id":3,"address":"127.0.0.1:9003","role":"spare","leader":"no","status":"unreachable (connection refused)"}]

                """)
        #expect(shell.fake.sessions == 0, "cluster commands need no session")
    }

    @Test(".leader, .describe and membership commands")
    func membership() async {
        let shell = clusterShell()
        let status = await shell.run(
            """
            .mode line
            .leader
            .describe 127.0.0.1:9002
            .add 4 127.0.0.1:9004 standby
            .assign 4 voter
            .remove 127.0.0.1:9004
            .remove 3
            .transfer 2
            .weight 127.0.0.1:9002 5
            """)
        #expect(status == 0)
        #expect(
            shell.fake.commands == [
                "add 4 127.0.0.1:9004 standby", "assign 4 voter", "remove address(\"127.0.0.1:9004\")", "remove id(3)",
                "transfer 2", "weight 127.0.0.1:9002 5",
            ])
        #expect(
            shell.output.text == """
                     id = 1
                address = 127.0.0.1:9001
                       address = 127.0.0.1:9002
                failure_domain = 3
                        weight = 7
                node 4 at 127.0.0.1:9004 is a standby
                node 4 is a voter
                node at 127.0.0.1:9004 removed
                node 3 removed
                leadership transferred to node 2 at 127.0.0.1:9002
                weight of 127.0.0.1:9002 set to 5

                """)
    }

    @Test("a failing cluster command is an error")
    func failure() async {
        let shell = ShellHarness()
        #expect(await shell.run(".leader") == 1)
        #expect(shell.messages.text == "Error: script.sql:1: no leader found (noLeader)\n")
    }

    @Test(".dump FILE writes the database and its WAL side by side, replacing stale files")
    func dumpFiles() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dump-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("copy.db").path
        try "stale".write(toFile: path + "-shm", atomically: true, encoding: .utf8)

        let shell = ShellHarness()
        shell.fake.state.withLock {
            $0.dumpFiles = [DumpFile(name: "main", data: [1, 2, 3, 4]), DumpFile(name: "main-wal", data: [5, 6])]
        }
        #expect(await shell.run(".dump '\(path)'") == 0)
        #expect(FileManager.default.contents(atPath: path) == Data([1, 2, 3, 4]))
        #expect(FileManager.default.contents(atPath: path + "-wal") == Data([5, 6]))
        #expect(!FileManager.default.fileExists(atPath: path + "-shm"))
        #expect(shell.messages.text.hasPrefix("wrote \(path) (4 bytes) and \(path)-wal (2 bytes)"))

        // An empty WAL (1.18.3+ folds it into the main file) is not written; an old one is removed.
        shell.fake.state.withLock {
            $0.dumpFiles = [DumpFile(name: "main", data: [9]), DumpFile(name: "main-wal", data: [])]
        }
        _ = shell.messages.take()
        #expect(await shell.run(".dump '\(path)'") == 0)
        #expect(FileManager.default.contents(atPath: path) == Data([9]))
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
        #expect(shell.messages.text == "wrote \(path) (1 byte)\n")

        let unwritable = ShellHarness()
        unwritable.fake.state.withLock { $0.dumpFiles = [DumpFile(name: "main", data: [1])] }
        #expect(await unwritable.run(".dump /nonexistent/dir/x.db") == 1)
        #expect(unwritable.messages.text.contains("cannot create /nonexistent/dir/x.db"))
    }
}
