import DqliteSQL
import DqliteShellCore
import DqliteWire
import Testing

@Suite("Statement classification")
struct StatementClassificationTests {
    private func parse(_ sql: String) -> Statement? {
        var splitter = StatementSplitter()
        return splitter.append(sql).first ?? splitter.finish()
    }

    @Test(
        "statements that return rows",
        arguments: [
            "SELECT 1", "select * from t", "  /* c */ SeLeCt 1", "VALUES (1), (2)", "PRAGMA table_info(t)",
            "pragma journal_mode = wal", "EXPLAIN SELECT 1", "EXPLAIN QUERY PLAN SELECT * FROM t",
            "explain insert into t values (1)", "WITH x AS (SELECT 1) SELECT * FROM x",
            "WITH RECURSIVE c(n) AS (VALUES(1) UNION ALL SELECT n+1 FROM c WHERE n < 5) SELECT n FROM c",
            "with x(a) as (select 1) values (2)", "INSERT INTO t VALUES (1) RETURNING id",
            "insert into t select * from u returning *", "UPDATE t SET a = 1 WHERE b = 2 RETURNING a, b",
            "DELETE FROM t RETURNING *", "REPLACE INTO t VALUES (1) RETURNING rowid",
            "WITH x AS (SELECT 1 AS v) INSERT INTO t SELECT v FROM x RETURNING v",
            "INSERT INTO t VALUES (1) ON CONFLICT (k) DO UPDATE SET n = n + 1 RETURNING n",
        ])
    func returnsRows(_ sql: String) throws {
        let statement = try #require(parse(sql))
        #expect(statement.returnsRows)
        #expect(statement.transactionControl == nil)
    }

    @Test(
        "statements that do not return rows",
        arguments: [
            "CREATE TABLE t (id INTEGER PRIMARY KEY, returning TEXT)", "INSERT INTO t VALUES (1)",
            "insert into t(\"returning\") values ('returning')", "UPDATE t SET a = (SELECT 1)",
            "DELETE FROM t WHERE id IN (SELECT id FROM u)", "DROP TABLE t", "CREATE INDEX i ON t(a)",
            "WITH x AS (SELECT 1 AS v) INSERT INTO t SELECT v FROM x",
            "WITH x AS (SELECT 1 AS v) DELETE FROM t WHERE a IN (SELECT v FROM x)",
            "CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; INSERT INTO u VALUES (1) RETURNING 1; END",
            "CREATE VIEW v AS SELECT 1", "ALTER TABLE t ADD COLUMN c", "VACUUM", "ANALYZE",
            "ATTACH 'x.db' AS x", "INSERT INTO t VALUES ('RETURNING')",
        ])
    func exec(_ sql: String) throws {
        let statement = try #require(parse(sql))
        #expect(!statement.returnsRows)
    }

    @Test("transaction control verbs")
    func transactionControl() throws {
        let cases: [(String, TransactionControl?)] = [
            ("BEGIN", .begin), ("begin transaction", .begin), ("BEGIN IMMEDIATE", .begin),
            ("begin exclusive transaction", .begin), ("COMMIT", .commit), ("commit transaction", .commit),
            ("END", .commit), ("end transaction", .commit), ("ROLLBACK", .rollback),
            ("rollback transaction", .rollback), ("ROLLBACK TO sp", .rollbackToSavepoint),
            ("rollback to savepoint sp", .rollbackToSavepoint),
            ("ROLLBACK TRANSACTION TO SAVEPOINT sp", .rollbackToSavepoint), ("SAVEPOINT sp", .savepoint),
            ("RELEASE sp", .release), ("release savepoint sp", .release), ("SELECT 1", nil),
            ("CREATE TABLE begin_log(x)", nil), ("/* c */ begin", .begin),
        ]
        for (sql, expected) in cases {
            let statement = try #require(parse(sql + ";"))
            #expect(statement.transactionControl == expected, "\(sql)")
            if expected != nil { #expect(!statement.returnsRows, "\(sql)") }
        }
    }

    @Test("parameter names follow SQLite's index assignment")
    func parameterNames() throws {
        let cases: [(String, [String])] = [
            ("SELECT 1", []),
            ("SELECT ?, ?, ?", ["?1", "?2", "?3"]),
            ("SELECT :a, @b, $c, :a", [":a", "@b", "$c"]),
            ("SELECT ?3, ?", ["?1", "?2", "?3", "?4"]),
            ("SELECT :a, ?1, ?", [":a", "?2"]),
            ("SELECT ?2, :x", ["?1", "?2", ":x"]),
            ("SELECT ':a', \"?\", [@b], `$c` -- :d\n, /* ? */ :e", [":e"]),
            ("SELECT ?99999", []),
        ]
        for (sql, names) in cases {
            let statement = try #require(parse(sql))
            #expect(statement.parameterNames == names, "\(sql)")
        }
    }

    @Test("parameter values come from the table by name, NULL when unset")
    func parameterValues() throws {
        var table = ParameterTable()
        table[":name"] = .text("Ada")
        table["?2"] = .integer(7)
        table["@unused"] = .float(1.5)
        let statement = try #require(parse("SELECT :name, ?, ?, $missing"))
        #expect(statement.parameterNames == [":name", "?2", "?3", "$missing"])
        #expect(statement.parameterValues(from: table) == [.text("Ada"), .integer(7), .null, .null])
        #expect(try #require(parse("SELECT 1")).parameterValues(from: table).isEmpty)
    }
}
