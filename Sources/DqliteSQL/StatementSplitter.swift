/// Cuts SQL text into complete statements, incrementally: feed it input as it arrives (a line at a time in
/// the shell) and it returns each statement as soon as its terminating `;` arrives.
///
/// It knows SQLite's lexical rules well enough that a `;` only ends a statement where SQLite would end it:
/// not inside `'…'` strings (with `''` escapes), `"…"`, `[…]` or `` `…` `` identifiers, `--` line comments
/// or `/* … */` block comments, and not inside the `BEGIN … END` body of a `CREATE TRIGGER` statement
/// (`CASE … END` blocks are counted, so `CASE … END;` inside a trigger body does not end it either).
/// Statements that are empty or hold only whitespace and comments are skipped. Every byte is examined once,
/// so feeding a large script line by line stays linear.
public struct StatementSplitter: Sendable {
    private enum Lex: Equatable, Sendable {
        case normal
        case word
        case parameter
        /// Inside a quoted token that ends at the given byte.
        case quoted(UInt8)
        /// Just saw the closing quote of a token whose quote doubles as an escape.
        case quoteClosed(UInt8)
        /// Saw `-`: a line comment or a minus sign.
        case dash
        case lineComment
        /// Saw `/`: a block comment or a division.
        case slash
        case blockComment
        /// Saw `*` inside a block comment.
        case blockStar
    }

    /// Bytes of the statement being read (older bytes are dropped once a statement is cut).
    private var pending: [UInt8] = []
    private var lex = Lex.normal
    /// Where the current word, parameter or quoted token starts in `pending`.
    private var tokenStart = 0
    /// Where the current statement's first significant byte is in `pending`.
    private var statementStart: Int?
    private var analyzer = StatementAnalyzer()

    /// Creates an empty splitter.
    public init() {}

    /// True when the input so far holds the beginning of a statement that has not been terminated, or ends
    /// inside a block comment: a shell shows its continuation prompt.
    public var needsMoreInput: Bool {
        switch lex {
        case .blockComment, .blockStar, .dash, .slash: return true
        default: return statementStart != nil
        }
    }

    /// The unterminated statement text read so far (from its first significant character), or "".
    public var pendingText: String {
        guard let start = statementStart else { return "" }
        return String(decoding: pending[start...], as: UTF8.self)
    }

    /// Appends input and returns the statements it completes, in order.
    public mutating func append(_ text: String) -> [Statement] {
        var statements: [Statement] = []
        var bytes = Array(text.utf8)
        if pending.isEmpty {
            swap(&pending, &bytes)
            scan(from: 0, into: &statements)
        } else {
            let from = pending.count
            pending.append(contentsOf: bytes)
            scan(from: from, into: &statements)
        }
        compact()
        return statements
    }

    /// Ends the input: returns the unterminated statement, if any (without a `;`, trailing whitespace
    /// removed), and resets the splitter. The server reports any error in it (an unterminated string, say).
    public mutating func finish() -> Statement? {
        var ignored: [Statement] = []
        closeToken(at: pending.count, into: &ignored)
        defer { reset() }
        guard let start = statementStart else { return nil }
        var end = pending.count
        while end > start, Self.isSpace(pending[end - 1]) { end -= 1 }
        return analyzer.statement(text: String(decoding: pending[start..<end], as: UTF8.self))
    }

    /// Discards any unterminated input (e.g. after Ctrl-C at a continuation prompt).
    public mutating func reset() {
        pending = []
        lex = .normal
        tokenStart = 0
        statementStart = nil
        analyzer = StatementAnalyzer()
    }

    /// Splits a whole text: the complete statements, and the unterminated rest ("" when there is none,
    /// and also when the rest is only whitespace and comments).
    public static func split(_ sql: String) -> (statements: [Statement], remainder: String) {
        var splitter = StatementSplitter()
        let statements = splitter.append(sql)
        return (statements, splitter.needsMoreInput ? splitter.pendingTextIncludingComments : "")
    }

    /// Whether `sql` ends at a statement boundary, like `sqlite3_complete` but also requiring every string,
    /// identifier and block comment to be closed. Text that is empty or only whitespace and comments is
    /// complete.
    public static func isComplete(_ sql: String) -> Bool {
        var splitter = StatementSplitter()
        _ = splitter.append(sql)
        return !splitter.needsMoreInput
    }

    // MARK: Scanning

    private var pendingTextIncludingComments: String { String(decoding: pending, as: UTF8.self) }

    private mutating func scan(from start: Int, into statements: inout [Statement]) {
        var index = start
        while index < pending.count {
            let byte = pending[index]
            switch lex {
            case .normal:
                startToken(byte, at: index, into: &statements)
            case .word, .parameter:
                if !Self.isWordByte(byte) {
                    closeToken(at: index, into: &statements)
                    continue  // reprocess this byte in the normal state
                }
            case .quoted(let close):
                if byte == close {
                    if close == UInt8(ascii: "]") {
                        closeToken(at: index + 1, into: &statements)
                    } else {
                        lex = .quoteClosed(close)
                    }
                }
            case .quoteClosed(let close):
                if byte == close {
                    lex = .quoted(close)  // a doubled quote is an escaped quote
                } else {
                    closeToken(at: index, into: &statements)
                    continue
                }
            case .dash:
                if byte == UInt8(ascii: "-") {
                    lex = .lineComment
                } else {
                    closeToken(at: index, into: &statements)
                    continue
                }
            case .lineComment:
                if byte == UInt8(ascii: "\n") { lex = .normal }
            case .slash:
                if byte == UInt8(ascii: "*") {
                    lex = .blockComment
                } else {
                    closeToken(at: index, into: &statements)
                    continue
                }
            case .blockComment:
                if byte == UInt8(ascii: "*") { lex = .blockStar }
            case .blockStar:
                if byte == UInt8(ascii: "/") {
                    lex = .normal
                } else if byte != UInt8(ascii: "*") {
                    lex = .blockComment
                }
            }
            index += 1
        }
    }

    /// Handles a byte in the normal state (between tokens).
    private mutating func startToken(_ byte: UInt8, at index: Int, into statements: inout [Statement]) {
        tokenStart = index
        switch byte {
        case _ where Self.isSpace(byte): return
        case UInt8(ascii: "'"), UInt8(ascii: "\""), UInt8(ascii: "`"):
            markSignificant(index)
            lex = .quoted(byte)
        case UInt8(ascii: "["):
            markSignificant(index)
            lex = .quoted(UInt8(ascii: "]"))
        case UInt8(ascii: "-"): lex = .dash
        case UInt8(ascii: "/"): lex = .slash
        case UInt8(ascii: ";"): terminate(at: index, into: &statements)
        case UInt8(ascii: "?"), UInt8(ascii: ":"), UInt8(ascii: "@"), UInt8(ascii: "$"):
            markSignificant(index)
            lex = .parameter
        case _ where Self.isWordByte(byte):
            markSignificant(index)
            lex = .word
        default:
            markSignificant(index)
            analyzer.punctuation(byte)
        }
    }

    /// Ends the token in progress at `end` (exclusive) and returns to the normal state.
    private mutating func closeToken(at end: Int, into statements: inout [Statement]) {
        switch lex {
        case .word: analyzer.word(pending[tokenStart..<end])
        case .parameter: analyzer.parameter(pending[tokenStart..<end])
        case .quoted, .quoteClosed: analyzer.literal()
        case .dash, .slash:
            markSignificant(tokenStart)
            analyzer.punctuation(pending[tokenStart])
        case .normal, .lineComment, .blockComment, .blockStar: break
        }
        lex = .normal
    }

    private mutating func markSignificant(_ index: Int) {
        if statementStart == nil { statementStart = index }
    }

    private mutating func terminate(at index: Int, into statements: inout [Statement]) {
        guard let start = statementStart else { return }  // an empty statement: nothing to run
        guard analyzer.semicolonEndsStatement else {
            analyzer.punctuation(UInt8(ascii: ";"))
            return
        }
        statements.append(analyzer.statement(text: String(decoding: pending[start...index], as: UTF8.self)))
        statementStart = nil
        analyzer = StatementAnalyzer()
    }

    /// Drops bytes no longer needed: everything before the current statement (or the token in progress).
    private mutating func compact() {
        var keep: Int
        switch lex {
        case .normal, .lineComment, .blockComment, .blockStar: keep = pending.count
        case .word, .parameter, .quoted, .quoteClosed, .dash, .slash: keep = tokenStart
        }
        if let start = statementStart { keep = min(keep, start) }
        guard keep > 0 else { return }
        pending.removeFirst(keep)
        tokenStart -= min(tokenStart, keep)
        if let start = statementStart { statementStart = start - keep }
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (0x09...0x0D).contains(byte)
    }

    /// Identifier and number bytes (SQLite treats every non-ASCII byte as an identifier byte).
    private static func isWordByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "$"), 0x80...0xFF:
            return true
        default: return false
        }
    }
}
