import DqliteSQL
import DqliteShellCore
import Foundation
import Testing

/// libedit's history is process-global: these tests run one at a time.
@Suite("Line editor history (libedit)", .serialized)
struct LineEditorTests {
    private func temporaryPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("dqlite-history-\(UUID().uuidString)").path
    }

    @Test("history is added, deduplicated, saved and loaded back")
    func roundTrip() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let editor = LineEditor(historyFile: path, interactive: false)
        #expect(!editor.isInteractive)
        #expect(editor.history.isEmpty)
        editor.addHistory("select 1;")
        editor.addHistory("select 1;")
        editor.addHistory("   ")
        editor.addHistory("select 'two words';")
        editor.addHistory(".mode csv")
        #expect(editor.history == ["select 1;", "select 'two words';", ".mode csv"])
        try editor.saveHistory()

        let reloaded = LineEditor(historyFile: path, interactive: false)
        #expect(reloaded.history == ["select 1;", "select 'two words';", ".mode csv"])
    }

    @Test("the history limit keeps the newest entries, in memory and in the file")
    func limit() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let editor = LineEditor(historyFile: path, historyLimit: 3, interactive: false)
        for n in 1...5 { editor.addHistory("select \(n);") }
        #expect(editor.history == ["select 3;", "select 4;", "select 5;"])
        try editor.saveHistory()
        let reloaded = LineEditor(historyFile: path, historyLimit: 10, interactive: false)
        #expect(reloaded.history == ["select 3;", "select 4;", "select 5;"])
    }

    @Test("no history file: nothing is saved; an unwritable file is an error")
    func files() throws {
        let editor = LineEditor(interactive: false)
        editor.addHistory("select 1;")
        try editor.saveHistory()
        let unwritable = LineEditor(historyFile: "/nonexistent-dir/history", interactive: false)
        unwritable.addHistory("select 1;")
        #expect(throws: LineEditorError.self) { try unwritable.saveHistory() }
    }
}
