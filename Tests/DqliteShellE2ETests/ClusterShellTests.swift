import DqliteLocalCluster
import Foundation
import Testing

/// The binary against real clusters started by the test (in-process libdqlite 1.11 nodes, or 1.18 nodes as
/// child processes).
@Suite("dqlite-shell binary: clusters")
struct ClusterShellTests {
    @Test("3 nodes: one-shot and piped SQL, BEGIN across lines, .cluster with reachability, .transfer and reconnect")
    func threeNodes() async throws {
        let state = try TemporaryDirectory()
        let directory = state.path
        try await withLocalCluster(nodes: 3) { cluster in
            let servers = cluster.addresses.joined(separator: ",")
            let setup = try await ShellBinary.run(
                [
                    "--servers", servers, "-d", "app", "-c",
                    "CREATE TABLE kv(k TEXT PRIMARY KEY, v); INSERT INTO kv VALUES ('a', 1);",
                ],
                stateDirectory: directory)
            #expect(setup.status == 0, "\(setup.stderr)")

            let piped = try await ShellBinary.run(
                ["--servers", servers, "--database", "app"],
                input: """
                    BEGIN;
                    INSERT INTO kv VALUES ('b', 2);
                    INSERT INTO kv VALUES ('a', 3);
                    COMMIT;
                    .mode json
                    SELECT * FROM kv ORDER BY k;
                    .mode csv
                    .cluster

                    """, stateDirectory: directory)
            #expect(piped.status == 1, "the duplicate key failed")
            #expect(
                piped.stderr == "Error: <stdin>:3: UNIQUE constraint failed: kv.k (SQLITE_CONSTRAINT_PRIMARYKEY)\n")
            let lines = piped.stdout.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n")
            #expect(lines.prefix(2) == [#"[{"k":"a","v":1},"#, #"{"k":"b","v":2}]"#], "the transaction committed 'b'")
            let members = lines.dropFirst(3).filter { !$0.isEmpty }
            #expect(members.count == 3)
            #expect(members.allSatisfy { $0.hasSuffix(",voter,yes,reachable") || $0.hasSuffix(",voter,no,reachable") })
            #expect(members.filter { $0.contains(",yes,") }.count == 1)

            // A stopped member shows as unreachable, with the reason.
            let leader = try await cluster.leader()
            let followers = cluster.nodeIDs.filter { $0 != leader.id }
            try await cluster.stop(node: followers[0])
            let degraded = try await ShellBinary.run(
                ["--servers", servers, "-d", "app", "--mode", "csv", "--no-headers", "-c", ".cluster"],
                stateDirectory: directory)
            #expect(degraded.status == 0, "\(degraded.stderr)")
            let stopped = try cluster.address(of: followers[0])
            #expect(degraded.stdout.contains("\(followers[0]),\(stopped),voter,no,unreachable (cannot connect: "))

            // .transfer moves leadership; the next statement finds its connection on a follower, reconnects to
            // the new leader and runs again (it was refused before running).
            let moved = try await ShellBinary.run(
                ["--servers", servers, "-d", "app"],
                input: "SELECT count(*) AS n FROM kv;\n.transfer \(followers[1])\nSELECT count(*) AS n FROM kv;\n",
                stateDirectory: directory)
            #expect(moved.status == 0, "\(moved.stderr)")
            #expect(moved.stdout.contains("leadership transferred to node \(followers[1])"))
            #expect(moved.stdout.components(separatedBy: "| 2 |").count == 3, "both counts printed")
            #expect(moved.stderr.contains("reconnecting to run the statement again"), "\(moved.stderr)")
            let newLeader = try cluster.address(of: followers[1])
            #expect(moved.stderr.contains("reconnected to \(newLeader)"))
        }
    }

    @Test("--node-store reads the members from a file; an unreachable cluster is one clear error naming the node")
    func nodeStoreAndUnreachable() async throws {
        let state = try TemporaryDirectory()
        let directory = state.path
        try await withLocalCluster(nodes: 1) { cluster in
            let store = directory + "/nodes.json"
            try #"[{"id":1,"address":"\#(cluster.addresses[0])","role":"voter"}]"#.write(
                toFile: store, atomically: true, encoding: .utf8)
            let run = try await ShellBinary.run(
                ["--node-store", store, "--mode", "csv", "-c", "SELECT 40 + 2 AS answer;"], stateDirectory: directory)
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stdout == "answer\r\n42\r\n")
        }
        let unreachable = try await ShellBinary.run(
            ["--servers", "127.0.0.1:1", "--timeout", "1", "-c", "SELECT 1;"], stateDirectory: directory)
        #expect(unreachable.status == 1)
        #expect(unreachable.stderr.hasPrefix("Error: cannot connect: "))
        #expect(unreachable.stderr.contains("127.0.0.1:1"), "\(unreachable.stderr)")
        #expect(unreachable.stderr.split(separator: "\n").count == 1)
    }

    @Test("RETURNING rows are shown on dqlite 1.18; older servers refuse it with a clear error")
    func returning() async throws {
        let state = try TemporaryDirectory()
        let directory = state.path
        let sql =
            "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t(v) VALUES ('x'), ('y') RETURNING id, v;"
        try await withLocalCluster(nodes: 1, generation: .v1_18) { cluster in
            let run = try await ShellBinary.run(
                ["--servers", cluster.addresses[0], "--mode", "csv", "-c", sql], stateDirectory: directory)
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stdout == "id,v\r\n1,x\r\n2,y\r\n")
        }
        let old = try await ShellBinary.run(["--memory", "-c", sql], stateDirectory: directory)
        #expect(old.status == 1)
        #expect(old.stderr.hasPrefix("Error: RETURNING is refused on this server"))
    }
}
