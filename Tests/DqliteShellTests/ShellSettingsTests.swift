import DqliteSQL
import DqliteShellCore
import DqliteWire
import Testing

@Suite("Shell settings")
struct ShellSettingsTests {
    @Test("local commands change settings; others are left to the caller")
    func apply() throws {
        var settings = ShellSettings()
        #expect(settings.apply(.mode(nil)) == "current output mode: table\n")
        #expect(settings.apply(.mode(.json)) == "")
        #expect(settings.apply(.headers(false)) == "")
        #expect(settings.apply(.timer(true)) == "")
        #expect(settings.apply(.bail(true)) == "")
        #expect(settings.renderOptions == RenderOptions(mode: .json, headers: false))
        #expect(settings.timer && settings.bail)
        #expect(settings.apply(.help(command: "mode")) == DotCommand.helpText(for: "mode"))
        for command: DotCommand in [
            .quit, .leader, .cluster, .tables(pattern: nil), .read(path: "f"), .output(path: nil),
        ] {
            #expect(settings.apply(command) == nil, "\(command)")
        }
    }

    @Test(".param set, list, unset, clear")
    func parameters() throws {
        var settings = ShellSettings()
        #expect(settings.apply(.param(.list)) == "")
        for line in [
            ".param set :name 'O''Brien'", ".param set ?1 42", ".param set @blob x'00ff'", ".param set :n NULL",
            ".param set $f 2.5", ".param set :long 'a\nb'",
        ] {
            #expect(settings.apply(try DotCommand(parsing: line)) == "")
        }
        #expect(
            settings.apply(.param(.list)) == """
                $f    2.5
                :long 'a\\nb'
                :n    NULL
                :name 'O''Brien'
                ?1    42
                @blob x'00ff'

                """)
        #expect(settings.apply(.param(.unset(name: ":n"))) == "")
        #expect(settings.parameters[":n"] == nil)
        #expect(settings.parameters[":name"] == .text("O'Brien"))
        #expect(settings.apply(.param(.clear)) == "")
        #expect(settings.parameters.isEmpty)
    }
}
