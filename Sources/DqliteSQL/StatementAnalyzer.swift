/// Classifies one statement from the tokens the splitter feeds it, and tells the splitter whether a `;` ends
/// the statement (it does not inside a `CREATE TRIGGER … BEGIN … END` body).
struct StatementAnalyzer: Sendable {
    /// Upper-cased leading keywords, up to the first non-word token (at most `leadingLimit`).
    private(set) var leadingWords: [String] = []
    private var leadingDone = false
    /// Parenthesis depth.
    private var depth = 0
    /// Whether the statement is `[EXPLAIN [QUERY PLAN]] CREATE [TEMP|TEMPORARY] TRIGGER`.
    private var isTrigger = false
    /// Open `CASE`/`BEGIN` blocks inside a trigger statement.
    private var blockDepth = 0
    /// For `WITH`: the first statement verb at depth 0 after the common table expressions.
    private var mainVerb: String?
    /// A `RETURNING` keyword at depth 0.
    private var sawReturning = false
    /// An `=` at the top level (for `PRAGMA name = value`).
    private var sawAssignment = false
    /// Parameter tokens in order of appearance.
    private var parameters: [String] = []

    private static let leadingLimit = 6
    private static let longestKeyword = 11  // TRANSACTION
    private static let verbs: Set<String> = ["SELECT", "VALUES", "INSERT", "UPDATE", "DELETE", "REPLACE"]
    static let maxParameterIndex = maximumParameterIndex

    /// Whether a `;` seen now ends the statement.
    var semicolonEndsStatement: Bool { !isTrigger || blockDepth == 0 }

    /// A word token (keyword, identifier or number), as UTF-8 bytes.
    mutating func word(_ bytes: ArraySlice<UInt8>) {
        let upper = bytes.count <= Self.longestKeyword ? Self.uppercased(bytes) : ""
        if !leadingDone {
            if leadingWords.count < Self.leadingLimit {
                leadingWords.append(upper)
                if !isTrigger { isTrigger = Self.isTriggerPrefix(leadingWords) }
            } else {
                leadingDone = true
            }
        }
        if isTrigger {
            switch upper {
            case "CASE", "BEGIN": blockDepth += 1
            case "END" where blockDepth > 0: blockDepth -= 1
            default: break
            }
        }
        if depth == 0 {
            if mainVerb == nil, leadingWords.first == "WITH", Self.verbs.contains(upper) { mainVerb = upper }
            if upper == "RETURNING" { sawReturning = true }
        }
    }

    /// A parameter token (`?`, `?NNN`, `:name`, `@name`, `$name`).
    mutating func parameter(_ bytes: ArraySlice<UInt8>) {
        leadingDone = true
        parameters.append(String(decoding: bytes, as: UTF8.self))
    }

    /// A string literal or quoted identifier.
    mutating func literal() {
        leadingDone = true
    }

    /// A punctuation byte other than the terminating `;`.
    mutating func punctuation(_ byte: UInt8) {
        leadingDone = true
        if byte == UInt8(ascii: "="), depth == 0 { sawAssignment = true }
        if byte == UInt8(ascii: "(") {
            depth += 1
        } else if byte == UInt8(ascii: ")"), depth > 0 {
            depth -= 1
        }
    }

    /// The finished statement.
    func statement(text: String) -> Statement {
        Statement(
            text: text, returnsRows: returnsRows, transactionControl: transactionControl,
            parameterNames: parameterNames, isPragmaAssignment: leadingWords.first == "PRAGMA" && sawAssignment,
            hasReturning: sawReturning, leadingKeyword: leadingWords.first.flatMap { $0.isEmpty ? nil : $0 })
    }

    private var returnsRows: Bool {
        switch leadingWords.first {
        case "SELECT", "VALUES", "PRAGMA", "EXPLAIN": return true
        case "WITH":
            switch mainVerb {
            case nil, "SELECT", "VALUES": return true
            default: return sawReturning
            }
        case "INSERT", "UPDATE", "DELETE", "REPLACE": return sawReturning
        default: return false
        }
    }

    private var transactionControl: TransactionControl? {
        switch leadingWords.first {
        case "BEGIN": return .begin
        case "COMMIT", "END": return .commit
        case "ROLLBACK":
            let next = leadingWords.dropFirst().prefix(2)
            return next.first == "TO" || next.elementsEqual(["TRANSACTION", "TO"]) ? .rollbackToSavepoint : .rollback
        case "SAVEPOINT": return .savepoint
        case "RELEASE": return .release
        default: return nil
        }
    }

    /// SQLite's index assignment: `?` takes the next index, `?NNN` index NNN, a name its first index.
    private var parameterNames: [String] {
        var names: [String] = []
        var indexOfName: [String: Int] = [:]
        for parameter in parameters {
            let digits = parameter.utf8.dropFirst()
            if parameter == "?" {
                guard names.count < Self.maxParameterIndex else { continue }
                names.append("?\(names.count + 1)")
            } else if parameter.utf8.first == UInt8(ascii: "?") {
                guard let index = Int(String(decoding: digits, as: UTF8.self)),
                    (1...Self.maxParameterIndex).contains(index)
                else { continue }
                while names.count < index { names.append("?\(names.count + 1)") }
            } else if indexOfName[parameter] == nil {
                guard names.count < Self.maxParameterIndex else { continue }
                names.append(parameter)
                indexOfName[parameter] = names.count
            }
        }
        return names
    }

    private static func isTriggerPrefix(_ words: [String]) -> Bool {
        var rest = words[...]
        if rest.first == "EXPLAIN" {
            rest = rest.dropFirst()
            if rest.first == "QUERY" { rest = rest.dropFirst(2) }
        }
        guard rest.first == "CREATE" else { return false }
        rest = rest.dropFirst()
        if rest.first == "TEMP" || rest.first == "TEMPORARY" { rest = rest.dropFirst() }
        return rest.first == "TRIGGER"
    }

    private static func uppercased(_ bytes: ArraySlice<UInt8>) -> String {
        String(
            decoding: bytes.map { $0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z") ? $0 - 32 : $0 }, as: UTF8.self)
    }
}
