import DqliteSQL
import DqliteShellCore
import DqliteWire
import Foundation
import Synchronization
import Testing

@Suite("Shell engine: statements, sessions, errors")
struct ShellEngineTests {
    private static let people: @Sendable (String) -> FakeDatabase.Reply = { sql in
        if sql.hasPrefix("SELECT") {
            return .rows(["id", "name"], [[.integer(1), .text("Ada")], [.integer(2), .null]])
        }
        return .exec
    }

    @Test("statements run in order on one session and results are rendered in the current mode")
    func statementsAndModes() async {
        let shell = ShellHarness(FakeDatabase(Self.people))
        let status = await shell.run(
            """
            BEGIN;
            INSERT INTO people
              VALUES (1, 'Ada');
            SELECT * FROM people;
            .mode json
            SELECT * FROM people; COMMIT;
            .headers off
            .mode csv
            SELECT * FROM people
            """)
        #expect(status == 0)
        #expect(
            shell.fake.sqlTexts == [
                "BEGIN;", "INSERT INTO people\n  VALUES (1, 'Ada');", "SELECT * FROM people;", "SELECT * FROM people;",
                "COMMIT;", "SELECT * FROM people",
            ])
        #expect(Set(shell.fake.calls.map(\.session)) == [1], "one session for the whole script")
        #expect(
            shell.output.text == """
                +----+------+
                | id | name |
                +----+------+
                | 1  | Ada  |
                | 2  | NULL |
                +----+------+
                [{"id":1,"name":"Ada"},
                {"id":2,"name":null}]
                1,Ada\r
                2,\r

                """)
        #expect(shell.messages.text.isEmpty)
    }

    @Test(".param values are bound to the statement's parameters by name and position")
    func parameters() async {
        let shell = ShellHarness()
        _ = await shell.run(
            """
            .param set :name 'Ada'
            .param set ?2 42
            INSERT INTO t VALUES (:name, ?2, :missing);
            """)
        #expect(shell.fake.calls.first?.parameters == [.text("Ada"), .integer(42), .null])
    }

    @Test("errors are one line with the script location; the exit status says a statement failed")
    func errors() async {
        let shell = ShellHarness(
            FakeDatabase { sql in
                sql.contains("dup")
                    ? .fail(ShellFailure(message: "UNIQUE constraint failed: u.k (SQLITE_CONSTRAINT_UNIQUE)")) : .exec
            })
        let status = await shell.run("INSERT INTO u VALUES (1);\nINSERT INTO u VALUES ('dup');\n.bogus\nSELECT 1;")
        #expect(status == 1)
        #expect(shell.fake.sqlTexts.count == 3, "a script goes on after an error without .bail")
        #expect(
            shell.messages.text == """
                Error: script.sql:2: UNIQUE constraint failed: u.k (SQLITE_CONSTRAINT_UNIQUE)
                Error: script.sql:3: unknown command ".bogus"; enter ".help" for a list

                """)
        #expect(shell.engine.errorCount == 2)
    }

    @Test(".bail on stops a script at the first error")
    func bail() async {
        let shell = ShellHarness(FakeDatabase { $0.contains("bad") ? .fail(ShellFailure(message: "boom")) : .exec })
        let status = await shell.run(".bail on\nSELECT 1;\nSELECT bad;\nSELECT 3;")
        #expect(status == 1)
        #expect(shell.fake.sqlTexts == ["SELECT 1;", "SELECT bad;"])
    }

    @Test("an interactive shell keeps going after errors and exits 0; history records each line")
    func interactiveErrors() async {
        let fake = FakeDatabase { $0.contains("bad") ? .fail(ShellFailure(message: "boom")) : .exec }
        let shell = ShellHarness(fake)
        shell.engine.settings.bail = true
        let terminal = ScriptedTerminal([.line("SELECT bad;"), .line("SELECT"), .line("2;")])
        let status = await shell.engine.run(terminal)
        #expect(status == 0)
        #expect(fake.sqlTexts == ["SELECT bad;", "SELECT\n2;"])
        #expect(terminal.prompts == ["dqlite> ", "dqlite> ", "   ...> ", "dqlite> "])
        #expect(terminal.history == ["SELECT bad;", "SELECT", "2;"])
        #expect(shell.messages.text == "connected to node-1, database \"main\"\nError: boom\n")
    }

    @Test("Ctrl-C at the prompt discards the pending statement")
    func interruptAtPrompt() async {
        let shell = ShellHarness()
        let terminal = ScriptedTerminal([
            .line("SELECT 'half"), .line("typed"), .interrupt, .line("SELECT 2;"),
        ])
        _ = await shell.engine.run(terminal)
        #expect(shell.fake.sqlTexts == ["SELECT 2;"])
        #expect(terminal.prompts == ["dqlite> ", "   ...> ", "   ...> ", "dqlite> ", "dqlite> "])
    }

    @Test("Ctrl-D leaves an interactive shell without running a half-typed statement; a script runs its last one")
    func endOfInput() async {
        let shell = ShellHarness()
        _ = await shell.engine.run(ScriptedTerminal([.line("SELECT 1;"), .line("SELECT 2")]))
        #expect(shell.fake.sqlTexts == ["SELECT 1;"])
        let script = ShellHarness()
        _ = await script.run("SELECT 1;\nSELECT 2")
        #expect(script.fake.sqlTexts == ["SELECT 1;", "SELECT 2"])
    }

    @Test("Ctrl-C during a query cancels it, closes the table and stops a script with status 130")
    func interruptQueryInScript() async throws {
        let fake = FakeDatabase { $0.contains("endless") ? .endless("x") : .exec }
        let shell = ShellHarness(fake)
        let interrupts = shell.interrupts
        async let interrupted: Void = Self.interrupt(interrupts, whenStreaming: fake)
        #expect(await shell.run("SELECT endless;\nSELECT 2;") == 130)
        try await interrupted
        #expect(fake.sqlTexts == ["SELECT endless;"])
        #expect(shell.messages.text == "Interrupted\n")
        #expect(shell.output.text.hasPrefix("+---+\n| x |\n+---+\n"))
        #expect(shell.output.text.hasSuffix("+\n"), "the table is closed after the interrupt")
    }

    @Test("Ctrl-C during a query in an interactive shell goes back to the prompt on the same session")
    func interruptQueryInteractively() async throws {
        let fake = FakeDatabase { $0.contains("endless") ? .endless("x") : .exec }
        let shell = ShellHarness(fake)
        let terminal = ScriptedTerminal([.line("SELECT endless; SELECT skipped;"), .line("SELECT after;")])
        let interrupts = shell.interrupts
        async let interrupted: Void = Self.interrupt(interrupts, whenStreaming: fake)
        #expect(await shell.engine.run(terminal) == 0)
        try await interrupted
        #expect(fake.sqlTexts == ["SELECT endless;", "SELECT after;"], "the rest of the interrupted line is dropped")
        #expect(fake.sessions == 1)
    }

    @Test("an interrupt the server could not settle reconnects and reports a lost transaction")
    func interruptClosesConnection() async throws {
        let fake = FakeDatabase { $0.contains("endless") ? .endless("x") : .exec }
        fake.state.withLock { $0.settleProblem = ShellFailure(message: "the connection was closed to stop it") }
        let shell = ShellHarness(fake)
        let terminal = ScriptedTerminal([.line("BEGIN;"), .line("SELECT endless;"), .line("SELECT after;")])
        let interrupts = shell.interrupts
        async let interrupted: Void = Self.interrupt(interrupts, whenStreaming: fake)
        #expect(await shell.engine.run(terminal) == 0)
        try await interrupted
        #expect(fake.calls.map(\.session) == [1, 1, 2])
        #expect(
            shell.messages.text == """
                connected to node-1, database "main"
                Interrupted
                the connection was closed to stop it; reconnecting
                \(ShellEngine.transactionLost)
                reconnected to node-2

                """)
        #expect(!shell.engine.transaction.isOpen)
    }

    /// Presses Ctrl-C once the fake streams rows.
    private static func interrupt(_ interrupts: ShellInterrupts, whenStreaming fake: FakeDatabase) async throws {
        try await fake.waitUntilStreaming()
        interrupts.interrupt()
    }

    @Test("a statement that certainly did not run is run again on a new connection")
    func reconnectAndRetry() async {
        let attempts = Mutex(0)
        let fake = FakeDatabase { sql in
            guard sql.contains("flaky") else { return .exec }
            let attempt = attempts.withLock { count in
                count += 1
                return count
            }
            return attempt == 1
                ? .fail(
                    ShellFailure(
                        message: "not leader (SQLITE_IOERR_NOT_LEADER)", connectionLost: true, notApplied: true))
                : .rows(["v"], [[.integer(7)]])
        }
        let shell = ShellHarness(fake)
        let status = await shell.run("SELECT flaky;\nSELECT 2;")
        #expect(status == 0)
        #expect(fake.calls.map(\.session) == [1, 2, 2])
        #expect(shell.output.text.contains("| 7 |"))
        #expect(
            shell.messages.text == """
                connection to node-1 lost (not leader (SQLITE_IOERR_NOT_LEADER)); reconnecting to run the statement again
                reconnected to node-2

                """)
    }

    @Test("a lost connection inside a transaction is reported, and nothing is re-run")
    func transactionLost() async {
        let fake = FakeDatabase { sql in
            sql.contains("lost")
                ? .fail(ShellFailure(message: "connection reset [node node-1]", connectionLost: true, notApplied: true))
                : .exec
        }
        let shell = ShellHarness(fake)
        let status = await shell.run("BEGIN;\nINSERT lost;\nCOMMIT;")
        #expect(status == 1)
        #expect(fake.calls.map(\.session) == [1, 1, 2])
        #expect(
            shell.messages.text == """
                Error: script.sql:2: connection reset [node node-1]
                connection to node-1 lost; reconnecting
                \(ShellEngine.transactionLost)
                reconnected to node-2

                """)
    }

    @Test("a commit whose answer was lost is reported as unknown")
    func ambiguousCommit() async {
        let fake = FakeDatabase { sql in
            sql.hasPrefix("COMMIT") ? .fail(ShellFailure(message: "timeout", connectionLost: true)) : .exec
        }
        let shell = ShellHarness(fake)
        _ = await shell.run("BEGIN;\nCOMMIT;")
        #expect(shell.messages.text.contains("the outcome of the commit is unknown"))
    }

    @Test("a script that cannot connect stops with status 1; an interactive shell stays disconnected")
    func cannotConnect() async {
        let fake = FakeDatabase()
        fake.state.withLock { $0.failingConnects = [1] }
        let shell = ShellHarness(fake)
        #expect(await shell.run("SELECT 1;\nSELECT 2;") == 1)
        #expect(fake.sqlTexts.isEmpty)
        #expect(shell.messages.text == "Error: script.sql:1: cannot connect: no leader found (noLeader)\n")

        // Interactive: connected first, then the connection is lost and reconnecting fails once.
        let flaky = FakeDatabase { sql in
            sql.contains("drop") ? .fail(ShellFailure(message: "reset", connectionLost: true)) : .exec
        }
        let interactive = ShellHarness(flaky)
        interactive.engine.connectEagerly = true
        let terminal = ScriptedTerminal([.line("SELECT drop;"), .line("SELECT 2;"), .line("SELECT 3;")])
        flaky.state.withLock { $0.failingConnects = [2] }
        #expect(await interactive.engine.run(terminal) == 0)
        #expect(flaky.calls.map(\.sql) == ["SELECT drop;", "SELECT 2;", "SELECT 3;"])
        #expect(flaky.calls.map(\.session) == [1, 2, 2])
        #expect(
            interactive.messages.text == """
                connected to node-1, database "main"
                Error: reset
                connection to node-1 lost; reconnecting
                Error: cannot connect: no leader found (noLeader)
                not connected; the next statement tries again
                reconnected to node-2

                """)
    }

    @Test(".timer prints the run time of each statement")
    func timer() async {
        let shell = ShellHarness()
        _ = await shell.run(".timer on\nSELECT 1;")
        // The figure itself depends on the machine; only its form is asserted.
        let text = shell.output.text
        #expect(text.wholeMatch(of: /Run Time: real \d+\.\d{3}\n(.|\n)*/) != nil, "\(text)")
    }

    @Test(".output writes results to a file, .read runs a file with its own line numbers")
    func outputAndRead() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("shell-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let script = directory.appendingPathComponent("inner.sql").path
        let results = directory.appendingPathComponent("out.csv").path
        try "SELECT * FROM people;\nSELECT bad FROM\n  nowhere;\n".write(
            toFile: script, atomically: true, encoding: .utf8)
        let shell = ShellHarness(
            FakeDatabase { sql in
                sql.contains("bad") ? .fail(ShellFailure(message: "no such column: bad")) : Self.people(sql)
            })
        let status = await shell.run(".mode csv\n.output '\(results)'\n.read '\(script)'\n.output\nSELECT 1;")
        #expect(status == 1)
        #expect(try String(contentsOfFile: results, encoding: .utf8) == "id,name\r\n1,Ada\r\n2,\r\n")
        #expect(shell.output.text == "id,name\r\n1,Ada\r\n2,\r\n")
        #expect(shell.messages.text == "Error: \(script):3: no such column: bad\n")
        let missing = ShellHarness()
        _ = await missing.run(".read /nonexistent/file.sql")
        #expect(missing.messages.text.contains("cannot open /nonexistent/file.sql"))
    }

    @Test(".tables, .schema and .databases query the session")
    func schemaCommands() async {
        let fake = FakeDatabase { sql in
            if sql.hasPrefix("SELECT name") { return .rows(["name"], [[.text("people")], [.text("pets")]]) }
            if sql.hasPrefix("SELECT sql") { return .rows(["sql"], [[.text("CREATE TABLE people(id, name)")]]) }
            return .exec
        }
        let shell = ShellHarness(fake)
        _ = await shell.run(".tables p%\n.schema people\n.databases")
        #expect(fake.calls.map(\.parameters) == [[.text("p%")], [.text("people")]])
        #expect(
            shell.output.text
                == "people\npets\nCREATE TABLE people(id, name);\nmain: \"main\" (dqlite database on node-1)\n")
    }

    @Test(".dump without a file writes SQL that recreates the database")
    func sqlDump() async {
        let fake = FakeDatabase { sql in
            if sql.contains("sqlite_master") {
                return .rows(
                    ["type", "name", "sql"],
                    [
                        [.text("table"), .text("t"), .text("CREATE TABLE t(a, b)")],
                        [.text("table"), .text("sqlite_sequence"), .text("CREATE TABLE sqlite_sequence(name,seq)")],
                        [.text("index"), .text("ti"), .text("CREATE INDEX ti ON t(a)")],
                    ])
            }
            if sql == "SELECT * FROM \"t\";" {
                return .rows(
                    ["a", "b"],
                    [
                        [.integer(1), .text("it's\nmultiline")], [.float(1.5), .blob([0, 255])],
                        [.null, .float(.infinity)],
                    ])
            }
            if sql == "SELECT * FROM \"sqlite_sequence\";" {
                return .rows(["name", "seq"], [[.text("t"), .integer(3)]])
            }
            return .exec
        }
        let shell = ShellHarness(fake)
        #expect(await shell.run(".dump") == 0)
        #expect(
            shell.output.text == """
                PRAGMA foreign_keys=OFF;
                BEGIN TRANSACTION;
                CREATE TABLE t(a, b);
                INSERT INTO "t" VALUES(1,'it''s
                multiline');
                INSERT INTO "t" VALUES(1.5,x'00ff');
                INSERT INTO "t" VALUES(NULL,1e999);
                DELETE FROM sqlite_sequence;
                INSERT INTO "sqlite_sequence" VALUES('t',3);
                CREATE INDEX ti ON t(a);
                COMMIT;

                """)
    }
}
