import DqliteSQL
import DqliteShellCore
import Testing

@Suite("Shell input: lines to statements and dot-commands")
struct ShellInputTests {
    @Test("multi-line statements, prompts and several statements per line")
    func multiLine() {
        var input = ShellInput()
        #expect(input.prompt == "dqlite> ")
        #expect(input.feed(line: "select 1,").isEmpty)
        #expect(input.needsMoreInput)
        #expect(input.prompt == "   ...> ")
        #expect(input.pendingText == "select 1,\n")
        let items = input.feed(line: "  2; select 3; select")
        #expect(statementTexts(items) == ["select 1,\n  2;", "select 3;"])
        #expect(input.needsMoreInput)
        #expect(statementTexts(input.feed(line: "4;")) == ["select\n4;"])
        #expect(input.prompt == "dqlite> ")
    }

    @Test("dot-commands are recognised only between statements")
    func dotCommands() {
        var input = ShellInput(primaryPrompt: "> ", continuationPrompt: ". ")
        #expect(input.feed(line: ".mode csv") == [.command(.success(.mode(.csv)))])
        #expect(input.feed(line: "   .headers off") == [.command(.success(.headers(false)))])
        #expect(input.feed(line: "select 1 as x").isEmpty)
        #expect(input.prompt == ". ")
        // Inside a statement a line starting with "." is SQL (here: the fraction part of a number).
        #expect(statementTexts(input.feed(line: ".5;")) == ["select 1 as x\n.5;"])
        guard case .command(.failure(let error)) = input.feed(line: ".nope").first else {
            Issue.record("expected a parse error")
            return
        }
        #expect(error.message.contains("unknown command"))
    }

    @Test("comments alone do not leave the input waiting; an open block comment does")
    func comments() {
        var input = ShellInput()
        #expect(input.feed(line: "-- just a comment").isEmpty)
        #expect(!input.needsMoreInput)
        #expect(input.feed(line: "/* open").isEmpty)
        #expect(input.needsMoreInput)
        #expect(input.feed(line: ".mode json").isEmpty)  // still inside the comment
        #expect(input.feed(line: "*/ .mode json").isEmpty)
        #expect(input.needsMoreInput)  // ".mode json" after the comment is SQL text
        input.discardPending()
        #expect(!input.needsMoreInput)
        #expect(input.feed(line: ".mode json") == [.command(.success(.mode(.json)))])
    }

    @Test("finish flushes a last statement without ;")
    func finish() {
        var input = ShellInput()
        #expect(input.feed(line: "select 1; select 2").count == 1)
        #expect(statementTexts(input.finish()) == ["select 2"])
        #expect(input.finish().isEmpty)
    }

    private func statementTexts(_ items: [ShellInput.Item]) -> [String] {
        items.compactMap { item in
            if case .statement(let statement) = item { return statement.text }
            return nil
        }
    }
}
