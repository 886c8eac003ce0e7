import CEdit

/// Reads input lines: with libedit's line editing and history when standard input is a terminal, and as
/// plain lines (no prompt, no history) when it is a pipe or a file.
///
/// libedit keeps one global history, so a process should use one `LineEditor` at a time.
public final class LineEditor {
    /// Whether lines come from libedit (a terminal) rather than plain standard input.
    public let isInteractive: Bool
    /// The history file: read when the editor is created, written by `saveHistory()`.
    public let historyFile: String?
    /// The most history entries kept (older ones are dropped, in memory and in the file).
    public let historyLimit: Int

    /// Creates an editor and loads `historyFile` if it exists.
    ///
    /// - Parameters:
    ///   - historyFile: where history persists (e.g. `~/.dqlite_history`); nil keeps it in memory only.
    ///   - historyLimit: the most entries kept; values below 1 count as 1.
    ///   - applicationName: the name `~/.editrc` rules can match (`dqlite:bind …`).
    ///   - interactive: forces line editing on or off; nil uses it exactly when standard input is a
    ///     terminal. An interactive editor leaves signals to the program (libedit's own handlers are off)
    ///     and reads through a function that ``read(prompt:wakeDescriptor:terminalResized:)`` can wake.
    public init(
        historyFile: String? = nil, historyLimit: Int = 1000, applicationName: String = "dqlite",
        interactive: Bool? = nil
    ) {
        self.isInteractive = interactive ?? (cedit_stdin_is_tty() != 0)
        self.historyFile = historyFile
        self.historyLimit = max(historyLimit, 1)
        cedit_set_readline_name(applicationName)
        if isInteractive { Self.prepareInterruptibleInput() }
        using_history()
        clear_history()
        stifle_history(Int32(clamping: self.historyLimit))
        if let historyFile { _ = read_history(historyFile) }
    }

    /// Reads one line without its line terminator, showing `prompt` when interactive; nil at end of input
    /// (Ctrl-D on an empty line, or end of file).
    public func readLine(prompt: String) -> String? {
        guard isInteractive else { return Swift.readLine(strippingNewline: true) }
        guard let line = readline(prompt) else { return nil }
        defer { free(line) }
        return String(cString: line)
    }

    /// Adds a line to the history, unless it is blank or repeats the latest entry.
    public func addHistory(_ line: String) {
        guard line.contains(where: { !$0.isWhitespace }), history.last != line else { return }
        add_history(line)
    }

    /// The history entries, oldest first.
    public var history: [String] {
        let base = cedit_history_base()
        var entries: [String] = []
        for offset in 0..<max(cedit_history_length(), 0) {
            if let entry = history_get(base + offset), let line = entry.pointee.line {
                entries.append(String(cString: line))
            }
        }
        return entries
    }

    /// Writes the history to `historyFile` (a no-op without one).
    public func saveHistory() throws(LineEditorError) {
        guard let historyFile else { return }
        let status = write_history(historyFile)
        // The history is stifled to `historyLimit`, so the file never holds more. (libedit's
        // history_truncate_file is not used: it drops the file's "_HiStOrY_V2_" header line.)
        guard status == 0 else { throw LineEditorError(path: historyFile, errno: status) }
    }
}

/// The history file could not be written.
public struct LineEditorError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The history file.
    public let path: String
    /// The `errno` value libedit returned.
    public let errno: Int32

    /// Creates an error.
    public init(path: String, errno: Int32) {
        self.path = path
        self.errno = errno
    }

    public var description: String { "cannot write history file \(path) (errno \(errno))" }
}
