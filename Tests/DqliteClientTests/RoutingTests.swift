import DqliteLocalCluster
import DqliteTestSupport
import Testing

@testable import Dqlite

/// Statement routing and the safety rules: what goes as QUERY or EXEC, what is refused before it is sent,
/// scripts, wide parameter lists and prepared statements.
@Suite("Statement routing and safety", .timeLimit(.minutes(3)))
struct RoutingTests {
    @Test(
        "RETURNING: refused with .unsupported on 1.11.1 (server unharmed), rows back on 1.18.7",
        arguments: DqliteGeneration.allCases)
    func returning(_ generation: DqliteGeneration) async throws {
        try await withClusterClient(generation) { _, client in
            try await client.execute("CREATE TABLE r (id INTEGER PRIMARY KEY, note TEXT NOT NULL)")
            switch generation {
            case .v1_11:
                let refused = await expectDqliteError(.unsupported) {
                    try await client.query("INSERT INTO r (note) VALUES ('q') RETURNING id").collect()
                }
                #expect(refused?.message.contains("RETURNING") == true)
                await expectDqliteError(.unsupported) {
                    try await client.execute("INSERT INTO r (note) VALUES ('e') RETURNING id, note")
                }
                await expectDqliteError(.unsupported) {
                    try await client.execute("UPDATE r SET note = 'u' RETURNING *")
                }
                try await client.withConnection { session in
                    await expectDqliteError(.unsupported) {
                        try await session.execute("DELETE FROM r RETURNING id")
                    }
                    await expectDqliteError(.unsupported) {
                        try await session.prepare("INSERT INTO r (note) VALUES (?) RETURNING id")
                    }
                }
                await expectDqliteError(.unsupported) {
                    try await client.executeScript("INSERT INTO r (note) VALUES ('s') RETURNING id;")
                }
                // Nothing reached the server, which is alive and well: writes and reads work.
                #expect(try await client.scalar("SELECT count(*) FROM r") == 0)
                for note in ["after-1", "after-2"] { try await client.execute("INSERT INTO r (note) VALUES (\(note))") }
                #expect(try await client.scalar("SELECT count(*) FROM r") == 2)
            case .v1_18:
                let rows = try await client.query("INSERT INTO r (note) VALUES ('q') RETURNING id, note").collect()
                #expect(rows.count == 1)
                #expect(rows.first?.columns.names == ["id", "note"])
                let (id, note) = try #require(rows.first).decode((Int64, String).self)
                #expect(note == "q")
                #expect(try await client.scalar("SELECT note FROM r WHERE id = \(id)") == "q")
                // Through execute the rows are discarded; the write happens.
                let executed = try await client.execute("INSERT INTO r (note) VALUES ('e') RETURNING id")
                #expect(executed.rowsAffected == 0 && executed.lastInsertID == 0)
                #expect(try await client.scalar("SELECT count(*) FROM r WHERE note = 'e'") == 1)
                let updated = try await client.query("UPDATE r SET note = note || '!' RETURNING note").decode(
                    String.self)
                #expect(Set(updated) == ["q!", "e!"])
                try await client.withConnection { session in
                    let deleted = try await session.query("DELETE FROM r WHERE note = 'e!' RETURNING id").collect()
                    #expect(deleted.count == 1)
                }
                // The server is fine afterwards (before 1.18.2 the next write would abort it).
                try await client.execute("INSERT INTO r (note) VALUES ('after')")
                #expect(try await client.scalar("SELECT count(*) FROM r") == 2)
            }
        }
    }

    @Test("PRAGMA assignment, WITH … INSERT, and the client-side refusals", arguments: DqliteGeneration.allCases)
    func pragmasCTEsAndRefusals(_ generation: DqliteGeneration) async throws {
        try await withClusterClient(generation) { _, client in
            try await client.executeScript(
                """
                CREATE TABLE parent (id INTEGER PRIMARY KEY);
                CREATE TABLE child (id INTEGER PRIMARY KEY, parent INTEGER REFERENCES parent (id));
                CREATE TABLE n (v INTEGER NOT NULL);
                INSERT INTO parent (id) VALUES (1);
                """)
            // PRAGMA x = y executes (as EXEC); PRAGMA x reads (as QUERY); on the same connection.
            try await client.withConnection { session in
                try await session.execute("PRAGMA foreign_keys = ON")
                #expect(try await session.scalar("PRAGMA foreign_keys") == 1)
                try await session.execute("INSERT INTO child (id, parent) VALUES (1, 1)")
                let violation = await expectDqliteError(.server) {
                    try await session.execute("INSERT INTO child (id, parent) VALUES (2, 99)")
                }
                #expect(violation?.resultCode == .SQLITE_CONSTRAINT_FOREIGNKEY)
                try await session.execute("PRAGMA foreign_keys = OFF")
                #expect(try await session.scalar("PRAGMA foreign_keys") == 0)
                let tableInfo = try await session.query("PRAGMA table_info(child)").collect()
                #expect(tableInfo.count == 2)
            }

            // WITH … INSERT is a write: it must run (sent as QUERY, 1.11.1 would silently skip it).
            let inserted = try await client.execute(
                """
                WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5)
                INSERT INTO n (v) SELECT x FROM c
                """)
            #expect(inserted.rowsAffected == 5)
            #expect(try await client.scalar("SELECT sum(v) FROM n") == 15)
            // WITH … SELECT reads.
            let doubled = try await client.query("WITH d AS (SELECT v * 2 AS w FROM n) SELECT w FROM d ORDER BY w")
                .decode(Int.self)
            #expect(doubled == [2, 4, 6, 8, 10])
            // A trailing semicolon and comment are still one statement.
            try await client.execute("INSERT INTO n (v) VALUES (6); -- done")
            #expect(try await client.scalar("SELECT count(*) FROM n") == 6)

            // Refused on the client, nothing sent.
            for empty in ["", "   \n\t ", "-- only a comment", "/* just this */ ;"] {
                await expectDqliteError(.invalidRequest, "execute(\"\(empty)\")") {
                    try await client.execute(DqliteQuery(unsafeSQL: empty))
                }
                await expectDqliteError(.invalidRequest, "query(\"\(empty)\")") {
                    try await client.query(DqliteQuery(unsafeSQL: empty)).collect()
                }
            }
            let multi = await expectDqliteError(.invalidRequest) {
                try await client.execute("INSERT INTO n (v) VALUES (100); INSERT INTO n (v) VALUES (101)")
            }
            #expect(multi?.message.contains("executeScript") == true)
            await expectDqliteError(.invalidRequest) { try await client.query("SELECT 1; SELECT 2").collect() }
            try await client.withConnection { session in
                await expectDqliteError(.invalidRequest) {
                    try await session.execute("DELETE FROM n; DELETE FROM parent")
                }
                await expectDqliteError(.invalidRequest) { try await session.prepare("SELECT 1; SELECT 2") }
                await expectDqliteError(.invalidRequest) { try await session.prepare("  ") }
            }
            #expect(try await client.scalar("SELECT count(*) FROM n WHERE v >= 100") == 0)
            #expect(try await client.scalar("SELECT count(*) FROM parent") == 1)
        }
    }

    @Test(
        "executeScript: several statements, a trigger with BEGIN … END, strings and comments",
        arguments: DqliteGeneration.allCases)
    func scripts(_ generation: DqliteGeneration) async throws {
        try await withClusterClient(generation) { _, client in
            try await client.executeScript(
                """
                -- accounts with an audit trail
                CREATE TABLE audit (id INTEGER PRIMARY KEY, msg TEXT NOT NULL);
                CREATE TABLE acct (id INTEGER PRIMARY KEY, owner TEXT NOT NULL, balance INTEGER NOT NULL);
                CREATE TRIGGER acct_log AFTER INSERT ON acct BEGIN
                    INSERT INTO audit (msg) VALUES ('new account; owner=' || NEW.owner);
                    INSERT INTO audit (msg) VALUES ('balance=' || NEW.balance || '; END;');
                END;
                INSERT INTO acct (owner, balance) VALUES ('O''Brien; "quoted"', 10);  /* a comment; with END; */
                INSERT INTO acct (owner, balance) VALUES ('zoë 🙂', 20);
                SELECT count(*) FROM acct;
                UPDATE acct SET balance = balance + 1
                """)
            let accounts = try await client.query("SELECT owner, balance FROM acct ORDER BY id").decode(
                (String, Int).self)
            #expect(accounts.map(\.0) == ["O'Brien; \"quoted\"", "zoë 🙂"])
            #expect(accounts.map(\.1) == [11, 21])
            let audit = try await client.query("SELECT msg FROM audit ORDER BY id").decode(String.self)
            #expect(
                audit == [
                    "new account; owner=O'Brien; \"quoted\"", "balance=10; END;", "new account; owner=zoë 🙂",
                    "balance=20; END;",
                ])

            // Inside a transaction, through the session.
            try await client.withTransaction { session in
                try await session.executeScript(
                    "INSERT INTO acct (owner, balance) VALUES ('t1', 1); INSERT INTO acct (owner, balance) VALUES ('t2', 2);"
                )
            }
            #expect(try await client.scalar("SELECT count(*) FROM audit") == 8)

            // A failing statement stops the script; what ran before it stays (a script is not a transaction).
            let failed = await expectDqliteError(.server) {
                try await client.executeScript(
                    """
                    INSERT INTO acct (owner, balance) VALUES ('before', 0);
                    INSERT INTO missing_table (x) VALUES (1);
                    INSERT INTO acct (owner, balance) VALUES ('after', 0);
                    """)
            }
            #expect(failed?.message.contains("missing_table") == true)
            #expect(try await client.scalar("SELECT count(*) FROM acct WHERE owner = 'before'") == 1)
            #expect(try await client.scalar("SELECT count(*) FROM acct WHERE owner = 'after'") == 0)
            // Blank and comment-only scripts do nothing.
            try await client.executeScript("  -- nothing\n /* at all */ ")
            try await client.executeScript("")
        }
    }

    @Test("more than 255 parameters: schema 1 on 1.18.7, .unsupported on 1.11.1", arguments: DqliteGeneration.allCases)
    func wideParameterLists(_ generation: DqliteGeneration) async throws {
        try await withClusterClient(generation) { _, client in
            try await client.execute("CREATE TABLE w (v INTEGER NOT NULL)")
            func values(_ count: Int) -> DqliteQuery {
                DqliteQuery(
                    unsafeSQL: "SELECT count(*), sum(column1) FROM (VALUES "
                        + Array(repeating: "(?)", count: count).joined(separator: ", ") + ")",
                    parameters: (1...count).map { .integer(Int64($0)) })
            }
            func insert(_ count: Int) -> DqliteQuery {
                DqliteQuery(
                    unsafeSQL: "INSERT INTO w (v) VALUES "
                        + Array(repeating: "(?)", count: count).joined(separator: ", "),
                    parameters: (1...count).map { .integer(Int64($0)) })
            }
            // 255 fit schema 0 everywhere.
            let narrow = try await client.query(values(255)).collect()[0]
            #expect(try narrow.decode((Int, Int).self) == (255, 255 * 256 / 2))
            #expect(try await client.execute(insert(255)).rowsAffected == 255)

            switch generation {
            case .v1_18:
                let wide = try await client.query(values(300)).collect()[0]
                #expect(try wide.decode((Int, Int).self) == (300, 300 * 301 / 2))
                #expect(try await client.execute(insert(1000)).rowsAffected == 1000)
                #expect(try await client.scalar("SELECT count(*) FROM w") == 1255)
                try await client.withConnection { session in
                    let statement = try await session.prepare(
                        "INSERT INTO w (v) VALUES " + Array(repeating: "(?)", count: 256).joined(separator: ", "))
                    #expect(statement.parameterCount == 256)
                    #expect(try await statement.execute(Array(repeating: 7, count: 256)).rowsAffected == 256)
                    try await statement.finalize()
                }
                #expect(try await client.scalar("SELECT count(*) FROM w WHERE v = 7") == 256 + 2)
            case .v1_11:
                let refused = await expectDqliteError(.unsupported) { try await client.query(values(256)).collect() }
                #expect(refused?.message.contains("255") == true)
                await expectDqliteError(.unsupported) { try await client.execute(insert(300)) }
                #expect(try await client.scalar("SELECT count(*) FROM w") == 255)
                // The connection is still good.
                #expect(try await client.scalar("SELECT 1") == 1)
            }
        }
    }

    @Test(
        "prepared statements: prepare, execute many times, query, finalize; a finalized one is never sent",
        arguments: DqliteGeneration.allCases)
    func preparedStatements(_ generation: DqliteGeneration) async throws {
        // Through a proxy that keeps a request for a finalized statement from the server: EXEC or QUERY of a
        // finalized statement id crashes libdqlite 1.11.1 (NULL dereference in the statement registry, which
        // takes this in-process test run down with it) and makes 1.18.7 drop the connection.
        try await withLocalCluster(nodes: 1, generation: generation) { cluster in
            try await withFaultProxy(target: cluster.addresses[0]) { proxy in
                try await withClient(seeds: [proxy.address]) { client in
                    try await Self.usePreparedStatements(client, proxy: proxy)
                }
            }
        }
    }

    static func usePreparedStatements(_ client: DqliteClient, proxy: FaultProxy) async throws {
        try await client.execute("CREATE TABLE p (n INTEGER PRIMARY KEY, label TEXT NOT NULL)")
        try await client.withConnection { session in
            let insert = try await session.prepare("INSERT INTO p (n, label) VALUES (?, ?)")
            #expect(insert.parameterCount == 2)
            for n in 0..<100 {
                let result = try await insert.execute([n, "n\(n)"])
                #expect(result.rowsAffected == 1 && result.lastInsertID == Int64(n))
            }
            // Prepared again on the same connection: the cached statement.
            let again = try await session.prepare("INSERT INTO p (n, label) VALUES (?, ?)")
            #expect(again.id == insert.id)

            let select = try await session.prepare("SELECT n, label FROM p WHERE n >= ? ORDER BY n")
            #expect(select.parameterCount == 1)
            #expect(try await select.query([95]).decode((Int, String).self).map(\.0) == [95, 96, 97, 98, 99])
            #expect(try await select.query([99]).decode((Int, String).self).map(\.1) == ["n99"])
            // Early break on a prepared query, then the statement runs again.
            var taken = 0
            for try await _ in try await select.query([0]) {
                taken += 1
                if taken == 3 { break }
            }
            #expect(taken == 3)
            #expect(try await select.query([98]).collect().count == 2)
            // A prepared statement that returns rows, run through execute: the rows are discarded.
            #expect(try await select.execute([0]).rowsAffected == 0)

            // Wrong parameter count, constraint violations: typed errors, the statement stays usable.
            await expectDqliteError(.invalidRequest) { try await insert.execute([1]) }
            let duplicate = await expectDqliteError(.server) { try await insert.execute([5, "dup"]) }
            #expect(duplicate.map { DqliteResultCode.SQLITE_CONSTRAINT ~= $0.resultCode } == true)
            try await insert.execute([100, "n100"])

            // Finalized, then prepared again: a new statement that works.
            try await insert.finalize()
            let renewed = try await session.prepare("INSERT INTO p (n, label) VALUES (?, ?)")
            try await renewed.execute([102, "n102"])
            try await renewed.finalize()
            try await select.finalize()
        }
        #expect(try await client.scalar("SELECT count(*) FROM p") == 102)

        // A finalized statement (and every copy of it) is refused on the client, never sent.
        try await client.withConnection { session in
            let statement = try await session.prepare("SELECT count(*) FROM p WHERE n > ?")
            let copy = try await session.prepare("SELECT count(*) FROM p WHERE n > ?")
            #expect(try await statement.query([50]).decode(Int.self) == [51])
            try await statement.finalize()
            let finalized = statement.id
            proxy.arm(
                FaultProxy.Rule(
                    matches: { _, request in
                        switch request {
                        case .exec(let call), .query(let call): return call.stmt == finalized
                        default: return false
                        }
                    }, action: .cutWithoutForwarding))
            await expectDqliteError(.invalidRequest, "QUERY of a finalized statement") {
                try await statement.query([0]).collect()
            }
            await expectDqliteError(.invalidRequest, "EXEC through a copy of a finalized statement") {
                try await copy.execute([0])
            }
            await expectDqliteError(.invalidRequest, "a second FINALIZE") { try await copy.finalize() }
            proxy.disarm()
        }
        #expect(proxy.fired.isEmpty, "a request for a finalized statement was sent (the proxy kept it from the server)")
        // The server is alive.
        #expect(try await client.scalar("SELECT count(*) FROM p") == 102)
    }
}
