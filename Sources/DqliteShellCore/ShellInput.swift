import DqliteSQL

/// Turns the lines a user types (or a script holds) into work for the shell: dot-commands and complete SQL
/// statements, and says which prompt to show next.
///
/// A line is a dot-command when it starts with `.` (after optional whitespace) and no SQL statement is in
/// progress; anything else is SQL, which may span lines and hold several statements.
public struct ShellInput: Sendable {
    /// One unit of work, in input order.
    public enum Item: Hashable, Sendable {
        /// A complete SQL statement.
        case statement(Statement)
        /// A dot-command line, parsed, or the reason it is invalid.
        case command(Result<DotCommand, DotCommandError>)
    }

    /// The prompt shown when no statement is in progress.
    public var primaryPrompt: String
    /// The prompt shown while a statement continues over several lines.
    public var continuationPrompt: String
    private var splitter = StatementSplitter()

    /// Creates an input reader with the given prompts.
    public init(primaryPrompt: String = "dqlite> ", continuationPrompt: String = "   ...> ") {
        self.primaryPrompt = primaryPrompt
        self.continuationPrompt = continuationPrompt
    }

    /// True while a statement is incomplete (its `;` has not arrived, or a block comment is open).
    public var needsMoreInput: Bool { splitter.needsMoreInput }

    /// The prompt to show before reading the next line.
    public var prompt: String { needsMoreInput ? continuationPrompt : primaryPrompt }

    /// The statement text read so far and not yet complete (for a history entry or an error), or "".
    public var pendingText: String { splitter.pendingText }

    /// Reads one line (without its line terminator) and returns what it completes.
    public mutating func feed(line: String) -> [Item] {
        if !splitter.needsMoreInput, let command = Self.dotCommandText(line) {
            // Text before the dot-command that was only whitespace or comments is dropped with it.
            splitter.reset()
            do throws(DotCommandError) {
                return [.command(.success(try DotCommand(parsing: command)))]
            } catch {
                return [.command(.failure(error))]
            }
        }
        return splitter.append(line + "\n").map(Item.statement)
    }

    /// Ends the input (end of file or of a script): returns the unterminated statement, if any, so it runs
    /// like sqlite3 runs a script's last statement without `;`.
    public mutating func finish() -> [Item] {
        splitter.finish().map { [.statement($0)] } ?? []
    }

    /// Discards an incomplete statement (e.g. on Ctrl-C at a continuation prompt).
    public mutating func discardPending() {
        splitter.reset()
    }

    private static func dotCommandText(_ line: String) -> Substring? {
        let trimmed = line.drop { $0 == " " || $0 == "\t" }
        return trimmed.first == "." ? trimmed : nil
    }
}
