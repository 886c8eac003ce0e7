import DqliteSQL
import DqliteShellCore
import Testing

@Suite("Statement splitting")
struct StatementSplitterTests {
    private func texts(_ sql: String) -> [String] {
        StatementSplitter.split(sql).statements.map(\.text)
    }

    @Test("statements end at ; and keep it; leading whitespace and comments are dropped")
    func basic() {
        #expect(texts("select 1; select 2;") == ["select 1;", "select 2;"])
        #expect(texts("  \n-- note\n/* block */ select 1 ;") == ["select 1 ;"])
        #expect(texts("select 1 -- trailing; not a terminator\n;") == ["select 1 -- trailing; not a terminator\n;"])
        #expect(StatementSplitter.split("select 1; select 2").remainder == "select 2")
    }

    @Test("a ; inside strings and quoted identifiers does not end the statement")
    func quotes() {
        #expect(texts("select 'a;b';") == ["select 'a;b';"])
        #expect(texts("select 'it''s; fine';") == ["select 'it''s; fine';"])
        #expect(texts(#"select "col;umn" from "t""x";"#) == [#"select "col;umn" from "t""x";"#])
        #expect(texts("select [a;b] from `t;``u`;") == ["select [a;b] from `t;``u`;"])
        #expect(texts("select x'3b';select '';") == ["select x'3b';", "select '';"])
        // A string that ends right before the terminator, and '' as an escape across the boundary.
        #expect(texts("select 'a'';';") == ["select 'a'';';"])
    }

    @Test("a ; inside comments does not end the statement")
    func comments() {
        #expect(texts("select /* ; */ 1;") == ["select /* ; */ 1;"])
        #expect(texts("select /* ** ; **/ 1;") == ["select /* ** ; **/ 1;"])
        #expect(texts("select 1 -- ;\n + 1;") == ["select 1 -- ;\n + 1;"])
        #expect(texts("select 4 - 2; select 4 / 2;") == ["select 4 - 2;", "select 4 / 2;"])
        #expect(texts("select 4-/*c*/-2;") == ["select 4-/*c*/-2;"])
    }

    @Test("empty, whitespace-only and comment-only statements are skipped")
    func emptyStatements() {
        #expect(texts(";;  ; -- c\n; /* c */ ;").isEmpty)
        #expect(texts("; select 1;;") == ["select 1;"])
        #expect(StatementSplitter.isComplete(""))
        #expect(StatementSplitter.isComplete("   \n\t"))
        #expect(StatementSplitter.isComplete("-- only a comment"))
        #expect(StatementSplitter.isComplete("/* closed */"))
        #expect(StatementSplitter.split("select 1; -- done").remainder == "")
    }

    @Test("CREATE TRIGGER … BEGIN … END; is one statement")
    func triggers() {
        let trigger = """
            CREATE TRIGGER t_audit AFTER INSERT ON t BEGIN
              INSERT INTO audit VALUES (new.id, 'insert; really');
              UPDATE counts SET n = n + 1;
            END;
            """
        #expect(texts(trigger + " select 1;") == [trigger, "select 1;"])
        let temp = "create temp trigger tr before delete on t begin delete from u; end;"
        #expect(texts(temp) == [temp])
        let temporary = "CREATE TEMPORARY TRIGGER IF NOT EXISTS tr AFTER UPDATE ON t BEGIN SELECT 1; END;"
        #expect(texts(temporary) == [temporary])
        let explained = "EXPLAIN QUERY PLAN CREATE TRIGGER tr AFTER UPDATE ON t BEGIN SELECT 1; END;"
        #expect(texts(explained) == [explained])
    }

    @Test("CASE … END inside a trigger body and its WHEN clause does not end the trigger")
    func triggerWithCase() {
        let trigger = """
            CREATE TRIGGER tr AFTER INSERT ON t WHEN CASE new.x WHEN 1 THEN 1 ELSE 0 END BEGIN
              UPDATE t SET y = CASE WHEN new.x > 0 THEN 'pos' ELSE 'neg' END;
              SELECT CASE 1 WHEN 1 THEN 2 END;
            END;
            """
        #expect(texts(trigger) == [trigger])
        #expect(
            !StatementSplitter.isComplete("CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT CASE 1 WHEN 1 THEN 2 END;"))
    }

    @Test("tables and other statements named like triggers are not triggers")
    func notTriggers() {
        #expect(texts("create table trigger_log(x); select 1;") == ["create table trigger_log(x);", "select 1;"])
        #expect(
            texts("create table \"trigger\"(begin); select 1;") == ["create table \"trigger\"(begin);", "select 1;"])
        #expect(texts("begin; end;") == ["begin;", "end;"])
        // A trigger without a body ends at its ; (the server reports the syntax error).
        #expect(texts("create trigger broken; select 1;") == ["create trigger broken;", "select 1;"])
    }

    @Test("incomplete input needs more: open statement, string, identifier, block comment, trigger body")
    func incomplete() {
        for sql in [
            "select 1", "select 'abc;", "select \"a;", "select [a;", "select `a;", "select 1 /* ; ",
            "/* open comment", "create trigger tr after insert on t begin select 1;", "select 1; select 2",
            "select 'it''", "select 1 -",
        ] {
            #expect(!StatementSplitter.isComplete(sql), "\(sql)")
        }
        for sql in ["select 1;", "select 'abc';", "select 1; -- c", "select 1 /* c */;", "select 1;\n\n"] {
            #expect(StatementSplitter.isComplete(sql), "\(sql)")
        }
    }

    @Test("incremental feeding gives the same statements as one piece, wherever the input is cut")
    func incremental() {
        let sql = """
            select 'a;''b' as "x;y", [c;d] -- c;
            from t; /* x; */ create trigger tr after insert on t begin
            update t set v = case when 1 then 2 end; end; select x'00';
            """
        let whole = texts(sql)
        #expect(whole.count == 3)
        let bytes = Array(sql.utf8)
        for cut in 0...bytes.count {
            var splitter = StatementSplitter()
            var statements = splitter.append(String(decoding: bytes[..<cut], as: UTF8.self))
            statements += splitter.append(String(decoding: bytes[cut...], as: UTF8.self))
            #expect(statements.map(\.text) == whole, "cut at \(cut)")
        }
        var splitter = StatementSplitter()
        var byCharacter: [Statement] = []
        for character in sql { byCharacter += splitter.append(String(character)) }
        #expect(byCharacter.map(\.text) == whole)
    }

    @Test("finish returns the unterminated statement; reset discards it")
    func finishAndReset() {
        var splitter = StatementSplitter()
        #expect(splitter.append("select 1;\nselect 2  \n").map(\.text) == ["select 1;"])
        #expect(splitter.needsMoreInput)
        #expect(splitter.pendingText == "select 2  \n")
        #expect(splitter.finish()?.text == "select 2")
        #expect(!splitter.needsMoreInput)
        #expect(splitter.finish() == nil)

        #expect(splitter.append("select 'open").isEmpty)
        #expect(splitter.finish()?.text == "select 'open")

        #expect(splitter.append("select 1 /* open").isEmpty)
        splitter.reset()
        #expect(!splitter.needsMoreInput)
        #expect(splitter.append("select 3;").map(\.text) == ["select 3;"])

        #expect(splitter.append("-- only a comment").isEmpty)
        #expect(splitter.finish() == nil)
    }

    @Test("non-ASCII text and identifiers")
    func unicode() {
        #expect(texts("select 'é;😀', \"naïve;\" from café;") == ["select 'é;😀', \"naïve;\" from café;"])
    }
}
