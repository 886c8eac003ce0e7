import Foundation
import Testing

/// The binary against its own embedded node: one-shot (-c), piped standard input, script files.
@Suite("dqlite-shell binary: embedded node")
struct EmbeddedShellTests {
    @Test("-c runs statements on a throwaway node: rows with headers and NULL, WITH and PRAGMA, errors")
    func oneShot() async throws {
        let state = try TemporaryDirectory()
        let run = try await ShellBinary.run(
            [
                "--memory", "-c",
                """
                CREATE TABLE u(k INTEGER UNIQUE, v TEXT);
                INSERT INTO u VALUES (1, NULL), (2, 'two');
                SELECT * FROM u ORDER BY k;
                WITH RECURSIVE c(x) AS (VALUES(1) UNION ALL SELECT x + 1 FROM c WHERE x < 3) SELECT x FROM c;
                PRAGMA table_info(u);
                INSERT INTO u VALUES (1, 'dup');
                SELECT count(*) AS n FROM u;
                """,
            ], stateDirectory: state.path)
        #expect(run.status == 1, "a statement failed")
        #expect(
            run.stdout.hasPrefix(
                """
                +---+------+
                | k |  v   |
                +---+------+
                | 1 | NULL |
                | 2 | two  |
                +---+------+
                +---+
                | x |
                +---+
                | 1 |
                | 2 |
                | 3 |
                +---+
                +-----+------+---------+---------+------------+----+
                | cid | name |  type   | notnull | dflt_value | pk |
                +-----+------+---------+---------+------------+----+
                | 0   | k    | INTEGER | 0       | NULL       | 0  |
                | 1   | v    | TEXT    | 0       | NULL       | 0  |
                +-----+------+---------+---------+------------+----+
                """))
        #expect(run.stdout.hasSuffix("| n |\n+---+\n| 2 |\n+---+\n"), "the script goes on after the error")
        #expect(run.stderr == "Error: UNIQUE constraint failed: u.k (SQLITE_CONSTRAINT_UNIQUE)\n")
    }

    @Test("piped input on a persistent --data directory; output modes; the data survives a restart")
    func pipedAndPersistent() async throws {
        let state = try TemporaryDirectory()
        let data = state.path + "/node"
        let first = try await ShellBinary.run(
            ["--data", data],
            input: """
                CREATE TABLE t(a INTEGER, b TEXT);
                BEGIN;
                INSERT INTO t VALUES (1, 'x'),
                  (2, NULL);
                COMMIT;
                .mode json
                SELECT * FROM t;
                .mode csv
                .headers off
                SELECT * FROM t;

                """, stateDirectory: state.path)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout == "[{\"a\":1,\"b\":\"x\"},\n{\"a\":2,\"b\":null}]\n1,x\r\n2,\r\n")
        #expect(first.stderr.isEmpty)
        let address = try String(contentsOfFile: data + "/dqlite-shell.address", encoding: .utf8)
        #expect(address.hasPrefix("@dqlite-shell-"))

        let second = try await ShellBinary.run(
            ["--data", data, "--mode", "line", "-c", "SELECT count(*) AS rows FROM t;", "-c", ".tables"],
            stateDirectory: state.path)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout == " rows = 2\nt\n")

        // The default data directory is under $XDG_STATE_HOME.
        let defaulted = try await ShellBinary.run(["-c", "CREATE TABLE d(x);"], stateDirectory: state.path)
        #expect(defaulted.status == 0, "\(defaulted.stderr)")
        #expect(FileManager.default.fileExists(atPath: state.path + "/dqlite-shell/data/dqlite-shell.address"))
    }

    @Test("--bail stops at the first error; script files report FILE:LINE")
    func bailAndFiles() async throws {
        let state = try TemporaryDirectory()
        let script = state.path + "/script.sql"
        try "SELECT 1 AS one;\nSELECT nope\n  FROM nowhere;\nSELECT 3 AS three;\n".write(
            toFile: script, atomically: true, encoding: .utf8)
        let plain = try await ShellBinary.run(["--memory", script], stateDirectory: state.path)
        #expect(plain.status == 1)
        #expect(plain.stderr == "Error: \(script):3: no such table: nowhere (SQLITE_ERROR)\n")
        #expect(plain.stdout.contains("three"))

        let bail = try await ShellBinary.run(["--memory", "--bail", script], stateDirectory: state.path)
        #expect(bail.status == 1)
        #expect(bail.stdout.contains("one") && !bail.stdout.contains("three"))
    }

    @Test("SIGINT stops a long query in a script: status 130, and the shell exits promptly")
    func interruptScript() async throws {
        let state = try TemporaryDirectory()
        let query =
            "WITH RECURSIVE c(x) AS (VALUES(1) UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000) SELECT x FROM c;"
        let started = try ShellBinary.start(
            ["--memory", "--mode", "csv", "-c", query, "-c", "SELECT 'not reached';"], input: nil,
            stateDirectory: state.path)
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(30)
        while ShellBinary.output(started).stdout.count < 100_000 && clock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        let interruptedAt = clock.now
        kill(started.pid, SIGINT)
        let run = try await ShellBinary.finish(started, timeout: .seconds(20))
        #expect(clock.now - interruptedAt < .seconds(10))
        #expect(run.status == 130, "stderr: \(run.stderr.suffix(2000))")
        #expect(run.stderr.hasPrefix("Interrupted\n"))
        #expect(!run.stdout.contains("not reached"))
    }

    @Test(".dump FILE writes a database (and WAL) that sqlite3 opens; .dump alone prints SQL")
    func dump() async throws {
        let state = try TemporaryDirectory()
        let file = state.path + "/copy.db"
        let run = try await ShellBinary.run(
            [
                "--memory", "-c",
                "CREATE TABLE t(a, b); INSERT INTO t VALUES (1, 'one'), (2, x'00ff');", "-c", ".dump '\(file)'", "-c",
                ".dump",
            ], stateDirectory: state.path)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.hasPrefix("wrote \(file) ("))
        #expect(
            run.stdout == """
                PRAGMA foreign_keys=OFF;
                BEGIN TRANSACTION;
                CREATE TABLE t(a, b);
                INSERT INTO "t" VALUES(1,'one');
                INSERT INTO "t" VALUES(2,x'00ff');
                COMMIT;

                """)
        let sqlite3 = try #require(
            ["/usr/bin/sqlite3", "/usr/local/bin/sqlite3"].first(where: FileManager.default.isExecutableFile(atPath:)),
            "sqlite3 is needed to check the dump: apt-get install sqlite3")
        let check = Process()
        check.executableURL = URL(fileURLWithPath: sqlite3)
        check.arguments = [file, "SELECT a, quote(b) FROM t ORDER BY a;"]
        let pipe = Pipe()
        check.standardOutput = pipe
        try check.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        check.waitUntilExit()
        #expect(output == "1|'one'\n2|X'00FF'\n")
    }

    @Test("bad flags and an unusable data directory fail with one clear line")
    func badSetup() async throws {
        let state = try TemporaryDirectory()
        let conflicting = try await ShellBinary.run(
            ["--memory", "--servers", "127.0.0.1:9001"], stateDirectory: state.path)
        #expect(conflicting.status != 0)
        #expect(conflicting.stderr.contains("--data, --memory and --address are for the embedded node"))

        let file = state.path + "/not-a-directory"
        _ = FileManager.default.createFile(atPath: file, contents: Data("x".utf8))
        let broken = try await ShellBinary.run(["--data", file, "-c", "SELECT 1;"], stateDirectory: state.path)
        #expect(broken.status == 1)
        #expect(broken.stderr.hasPrefix("Error: cannot start the embedded node:"))
    }
}
