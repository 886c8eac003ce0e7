import Foundation
import Testing

/// A tmux server of its own (a private socket), driving one pane like a user at a terminal.
final class Tmux {
    let socket = "dqlite-shell-e2e-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    let executable: String
    let configuration: String

    init() throws {
        guard
            let found = ["/usr/bin/tmux", "/usr/local/bin/tmux"].first(where: FileManager.default.isExecutableFile)
        else {
            throw ShellBinary.Failure(description: "tmux is needed for the interactive tests: apt-get install tmux")
        }
        executable = found
        configuration = FileManager.default.temporaryDirectory.appendingPathComponent("\(socket).conf").path
        try "set -g history-limit 100000\nset -g status off\n".write(
            toFile: configuration, atomically: true, encoding: .utf8)
    }

    deinit {
        _ = try? run(["kill-server"])
        try? FileManager.default.removeItem(atPath: configuration)
        try? FileManager.default.removeItem(atPath: "/tmp/tmux-\(getuid())/\(socket)")
    }

    /// Runs one tmux command and returns what it printed.
    ///
    /// Spawned directly rather than with Foundation's `Process`: `new-session` forks the tmux server, which
    /// would inherit the descriptor `Process` watches to notice the exit (and any other descriptor of this
    /// test process). Here the child gets only standard input, output and error.
    @discardableResult
    func run(_ arguments: [String]) throws -> String {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("\(socket)-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: log) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        _ = Self.closeFrom3?(&actions, 3)
        let argv = ([executable, "-L", socket, "-f", configuration] + arguments).map { strdup($0) }
        defer { argv.forEach { free($0) } }
        // This thread (a Swift concurrency worker) blocks most signals; the tmux server must not inherit that,
        // or kill-server (a SIGTERM to itself) would do nothing.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var defaults = sigset_t()
        sigfillset(&defaults)
        sigdelset(&defaults, SIGKILL)
        sigdelset(&defaults, SIGSTOP)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, &attributes, argv + [nil], environ)
        guard spawned == 0 else {
            throw ShellBinary.Failure(description: "cannot run tmux: \(String(cString: strerror(spawned)))")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        guard status == 0 else {
            throw ShellBinary.Failure(description: "tmux \(arguments.joined(separator: " ")): \(output)")
        }
        return output
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+; Swift's Glibc module does not export it).
    private static let closeFrom3:
        (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32)? = {
            guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return nil }
            return unsafeBitCast(
                symbol,
                to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32).self)
        }()

    /// Starts `command` (a shell command line) in a 160×50 pane.
    func start(_ command: String) throws {
        try run(["new-session", "-d", "-s", "e2e", "-x", "160", "-y", "50", command])
    }

    /// Types text literally (a trailing `;` is escaped: tmux would read it as a command separator).
    func type(_ text: String) throws {
        let escaped = text.hasSuffix(";") ? String(text.dropLast()) + "\\;" : text
        try run(["send-keys", "-t", "e2e", "-l", escaped])
    }

    /// Presses keys by tmux name: `Enter`, `Left`, `Up`, `C-c`, `C-d`.
    func press(_ keys: String...) throws {
        try run(["send-keys", "-t", "e2e"] + keys)
    }

    /// The pane's text, with `lines` lines of scrollback, without the empty lines below the cursor and
    /// without trailing spaces (so the prompt reads `dqlite>`).
    func screen(scrollback lines: Int = 400) throws -> String {
        var rows = try run(["capture-pane", "-p", "-J", "-t", "e2e", "-S", "-\(lines)"]).split(
            separator: "\n", omittingEmptySubsequences: false)
        while let last = rows.last, last.allSatisfy(\.isWhitespace) { rows.removeLast() }
        return rows.map { row in row.prefix(through: row.lastIndex { !$0.isWhitespace } ?? row.startIndex) }
            .joined(separator: "\n")
    }

    /// Waits until the pane's text satisfies `condition`.
    @discardableResult
    func wait(
        for what: String, timeout: Duration = .seconds(20), scrollback: Int = 400, _ condition: (String) -> Bool
    ) async throws -> String {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            let text = try screen(scrollback: scrollback)
            if condition(text) { return text }
            guard clock.now < deadline else {
                throw ShellBinary.Failure(description: "timed out waiting for \(what); the pane shows:\n\(text)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}

@Suite("dqlite-shell binary: interactive session in a pseudo-terminal (tmux)")
struct InteractiveShellTests {
    @Test(
        "edit a line, recall history, Ctrl-C a long query and pending input, Ctrl-D exits; history persists",
        .timeLimit(.minutes(3)))
    func session() async throws {
        let state = try TemporaryDirectory()
        let history = state.path + "/history"
        let tmux = try Tmux()
        let shell = "XDG_STATE_HOME='\(state.path)' '\(try ShellBinary.path())' --memory --history '\(history)'"
        try tmux.start("\(shell); echo EXIT=$?; \(shell); echo EXIT=$?; sleep 600")
        try await tmux.wait(for: "the prompt") { $0.contains("connected to @dqlite-shell-") && $0.hasSuffix("dqlite>") }

        // A statement.
        try tmux.type("SELECT 1 + 1 AS two;")
        try tmux.press("Enter")
        try await tmux.wait(for: "the first result") { $0.contains("| 2   |") }

        // Line editing: move the cursor back into the line and insert a digit.
        try tmux.type("SELECT 3 AS edited;")
        try tmux.press("Left", "Left", "Left", "Left", "Left", "Left", "Left", "Left", "Left", "Left", "Left")
        try tmux.type("0")
        try tmux.press("Enter")
        try await tmux.wait(for: "the edited statement's result") { $0.contains("| 30     |") }

        // History: Up twice recalls the first statement.
        try tmux.press("Up", "Up", "Enter")
        try await tmux.wait(for: "the recalled statement's result") { $0.components(separatedBy: "| two |").count == 3 }

        // Ctrl-C at the continuation prompt discards the pending statement.
        try tmux.type("SELECT")
        try tmux.press("Enter")
        try await tmux.wait(for: "the continuation prompt") { $0.hasSuffix("   ...>") }
        try tmux.type("'never run'")
        // Ctrl-C reaches the shell as SIGINT at once, and the terminal flushes input not read yet: wait for the
        // echo first, so that the text is in the line editor when the interrupt comes.
        try await tmux.wait(for: "the pending text") { $0.hasSuffix("   ...> 'never run'") }
        try tmux.press("C-c")
        try await tmux.wait(for: "a fresh prompt") { $0.hasSuffix("   ...> 'never run'\ndqlite>") }
        try tmux.type("SELECT 5 AS five;")
        try tmux.press("Enter")
        let afterDiscard = try await tmux.wait(for: "five") { $0.contains("| 5    |") }
        #expect(!afterDiscard.contains("Error"), "the discarded text never reached the server")

        // A long query, interrupted with Ctrl-C: the shell stays, on a working session.
        try tmux.type(
            "WITH RECURSIVE c(x) AS (VALUES(1) UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000) "
                + "SELECT x FROM c WHERE x % 1000 = 0;")
        try tmux.press("Enter")
        try await tmux.wait(for: "rows streaming") { text in
            text.split(separator: "\n").filter { $0.hasPrefix("| ") && $0.hasSuffix("000 |") }.count > 100
        }
        try tmux.press("C-c")
        try await tmux.wait(for: "the interrupt and a new prompt", timeout: .seconds(30)) { text in
            guard let range = text.range(of: "Interrupted\n", options: .backwards) else { return false }
            return text[range.upperBound...].hasSuffix("dqlite>")
        }
        try tmux.type("SELECT 42 AS after_interrupt;")
        try tmux.press("Enter")
        try await tmux.wait(for: "a result after the interrupt") { $0.contains("| 42              |") }

        // Ctrl-D exits cleanly.
        try tmux.press("C-d")
        try await tmux.wait(for: "the exit status") { $0.contains("EXIT=0") }

        // The history persisted: a new shell recalls the last statement with Up.
        let saved = try String(contentsOfFile: history, encoding: .utf8)
        #expect(saved.contains("edited") && saved.contains("after_interrupt"))
        try await tmux.wait(for: "the second shell's prompt") { $0.hasSuffix("dqlite>") }
        try tmux.press("Up", "Enter")
        try await tmux.wait(for: "the recalled statement in the new shell") {
            $0.components(separatedBy: "| 42              |").count == 3
        }
        try tmux.press("C-d")
        try await tmux.wait(for: "the second exit status") { $0.components(separatedBy: "EXIT=0").count == 3 }
    }
}
