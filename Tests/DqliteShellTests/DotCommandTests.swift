import DqliteSQL
import DqliteShellCore
import DqliteWire
import Testing

@Suite("Dot-command parsing")
struct DotCommandTests {
    @Test("valid commands")
    func valid() throws {
        let cases: [(String, DotCommand)] = [
            (".help", .help(command: nil)), (".help mode", .help(command: "mode")),
            (".tables", .tables(pattern: nil)), (".tables u%", .tables(pattern: "u%")),
            (".schema", .schema(table: nil)), (".schema users", .schema(table: "users")),
            (".databases", .databases), (".read setup.sql", .read(path: "setup.sql")),
            (".read 'my file.sql'", .read(path: "my file.sql")), (".read \"it\"\"s.sql\"", .read(path: "it\"s.sql")),
            (".quit", .quit), (".exit", .quit), (".mode", .mode(nil)), (".mode table", .mode(.table)),
            (".mode CSV", .mode(.csv)), (".mode json", .mode(.json)), (".mode line", .mode(.line)),
            (".mode markdown", .mode(.markdown)), (".mode tabular", .mode(.table)),
            (".headers on", .headers(true)), (".header off", .headers(false)), (".headers YES", .headers(true)),
            (".timer 1", .timer(true)), (".timer false", .timer(false)), (".bail on", .bail(true)),
            (".output", .output(path: nil)), (".output out.csv", .output(path: "out.csv")),
            (".leader", .leader), (".cluster", .cluster),
            (".add 2 127.0.0.1:9002", .add(id: 2, address: "127.0.0.1:9002", role: .voter)),
            (".add 3 node3:9001 spare", .add(id: 3, address: "node3:9001", role: .spare)),
            (".add 4 [::1]:9001 stand-by", .add(id: 4, address: "[::1]:9001", role: .standby)),
            (".add 5 @dqlite-5 Voter", .add(id: 5, address: "@dqlite-5", role: .voter)),
            (".assign 2 standby", .assign(id: 2, role: .standby)),
            (".remove 3", .remove(.id(3))), (".remove 10.0.0.3:9001", .remove(.address("10.0.0.3:9001"))),
            (".transfer", .transfer(id: nil)), (".transfer 2", .transfer(id: 2)),
            (".describe", .describe(address: nil)), (".describe n1:9001", .describe(address: "n1:9001")),
            (".weight n1:9001 5", .weight(address: "n1:9001", weight: 5)),
            (".dump", .dump(path: nil)), (".dump backup.sql", .dump(path: "backup.sql")),
            ("  .mode\tcsv  ", .mode(.csv)),
            (".param", .param(.list)), (".param list", .param(.list)), (".parameter clear", .param(.clear)),
            (".param unset :a", .param(.unset(name: ":a"))),
            (".param set :a 42", .param(.set(name: ":a", value: .integer(42)))),
            (".param set @s 'two words'", .param(.set(name: "@s", value: .text("two words")))),
            (".param set $s 'it''s'  ", .param(.set(name: "$s", value: .text("it's")))),
            (".param set ?1 x'00ff'", .param(.set(name: "?1", value: .blob([0x00, 0xFF])))),
            (".param set :n NULL", .param(.set(name: ":n", value: .null))),
            (".param set :f -1.5e3", .param(.set(name: ":f", value: .float(-1500)))),
            (".param set :w hello", .param(.set(name: ":w", value: .text("hello")))),
        ]
        for (line, expected) in cases {
            #expect(try DotCommand(parsing: line) == expected, "\(line)")
        }
    }

    @Test("invalid commands give one-line errors that say what is wrong")
    func invalid() {
        let cases: [(String, String)] = [
            (".", "missing command name"),
            (".nope", #"unknown command ".nope""#),
            (".HELP", "unknown command"),
            (".mode box", #".mode: unknown mode "box"; modes are table, csv, json, line, markdown"#),
            (".mode csv json", #"unexpected argument "json"; usage: .mode [MODE]"#),
            (".headers", "missing on or off; usage: .headers on|off"),
            (".headers maybe", #"expected on or off, got "maybe""#),
            (".timer on off", "unexpected argument"),
            (".read", "missing FILE; usage: .read FILE"),
            (".read a b", #"unexpected argument "b""#),
            (".read 'unterminated", "unterminated quoted argument"),
            (".quit now", "unexpected argument"),
            (".tables a b", "unexpected argument"),
            (".add", "missing ID; usage: .add ID ADDRESS [ROLE]"),
            (".add 0 a:1", #".add: a node ID is a positive integer, got "0""#),
            (".add x a:1", "a node ID is a positive integer"),
            (".add -1 a:1", "a node ID is a positive integer"),
            (".add 18446744073709551616 a:1", "a node ID is a positive integer"),
            (".add 2", "missing ADDRESS"),
            (".add 2 nohost", #"an address is HOST:PORT (or @NAME for an abstract socket), got "nohost""#),
            (".add 2 host:0", "an address is HOST:PORT"),
            (".add 2 host:70000", "an address is HOST:PORT"),
            (".add 2 :9001", "an address is HOST:PORT"),
            (".add 2 @", "an address is HOST:PORT"),
            (".add 2 h:1 leader", #".add: unknown role "leader"; roles are voter, standby, spare"#),
            (".add 2 h:1 spare extra", "unexpected argument"),
            (".assign 2", "missing ROLE"),
            (".assign 2 boss", "unknown role"),
            (".remove", "missing ID or ADDRESS"),
            (".remove 0", "a node ID is a positive integer"),
            (".remove nowhere", "an address is HOST:PORT"),
            (".transfer me", "a node ID is a positive integer"),
            (".describe nowhere", "an address is HOST:PORT"),
            (".weight h:1", "missing N"),
            (".weight h:1 -2", #".weight: N must be a non-negative integer, got "-2""#),
            (".param set", "missing NAME"),
            (".param set :a", "missing VALUE; usage: .param set NAME VALUE"),
            (".param set a 1", #"invalid parameter name "a""#),
            (".param set ?0 1", "invalid parameter name"),
            (".param set ?x 1", "invalid parameter name"),
            (".param set :a 'open", "unterminated"),
            (".param set :a x'abc'", "even number of hex digits"),
            (".param set :a x'zz'", "not a hex digit"),
            (".param unset", "missing NAME"),
            (".param drop", #".param: unknown subcommand "drop"; use set, unset, list or clear"#),
            (".param list all", "unexpected argument"),
            (".mode \u{1B}[31m", #"unknown mode "\x1b[31m""#),
        ]
        for (line, fragment) in cases {
            #expect(throws: DotCommandError.self, "\(line)") { try DotCommand(parsing: line) }
            do {
                _ = try DotCommand(parsing: line)
            } catch {
                #expect(error.message.contains(fragment), "\(line): \(error.message)")
                #expect(!error.message.contains("\n"), "\(line)")
            }
        }
    }

    @Test("help lists every command, aligned; a topic filters it")
    func help() {
        let text = DotCommand.helpText()
        for command in [
            ".help", ".tables", ".schema", ".databases", ".read", ".quit", ".exit", ".mode", ".headers", ".timer",
            ".output", ".param set", ".param unset", ".param list", ".param clear", ".leader", ".cluster", ".add",
            ".assign", ".remove", ".transfer", ".describe", ".weight", ".dump", ".bail",
        ] {
            #expect(text.contains("\n" + command) || text.hasPrefix(command), "\(command)")
        }
        let width = DotCommand.helpEntries.map(\.usage.count).max() ?? 0
        for entry in DotCommand.helpEntries {
            let line = entry.usage + String(repeating: " ", count: width - entry.usage.count + 2) + entry.summary + "\n"
            #expect(text.hasPrefix(line) || text.contains("\n" + line), "\(entry.usage)")
        }
        #expect(
            DotCommand.helpText(for: "param") == """
                .param clear           Remove every parameter
                .param list            List the parameters
                .param set NAME VALUE  Bind VALUE to NAME (:a, @a, $a, ?N) in later statements
                .param unset NAME      Remove one parameter

                """)
        #expect(
            DotCommand.helpText(for: ".mode") == ".mode [MODE]  Set the output mode: table, csv, json, line, markdown\n"
        )
        #expect(DotCommand.helpText(for: "zz").hasPrefix("No command matches \".zz\""))
    }

    @Test("every help entry's command parses (with example arguments)")
    func helpEntriesParse() throws {
        let examples = [
            ".add 1 h:1 voter", ".assign 1 voter", ".bail on", ".cluster", ".databases", ".describe h:1", ".dump f",
            ".exit", ".headers on", ".help x", ".leader", ".mode csv", ".output f", ".param clear", ".param list",
            ".param set :a 1", ".param unset :a", ".quit", ".read f", ".remove 1", ".schema t", ".tables t",
            ".timer on", ".transfer 1", ".weight h:1 1",
        ]
        #expect(examples.count == DotCommand.helpEntries.count)
        for example in examples { _ = try DotCommand(parsing: example) }
    }
}
