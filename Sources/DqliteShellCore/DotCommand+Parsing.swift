import DqliteWire
extension DotCommand {
    /// Parses a dot-command line such as `.mode csv` or `.param set :name 'Ada'`.
    ///
    /// Arguments are separated by spaces or tabs; an argument may be quoted with `'…'` or `"…"` (the quote
    /// doubled inside stands for itself) to hold spaces, e.g. a file name. The value of `.param set` is the
    /// raw rest of the line, so `.param set :s 'two words'` binds the text `two words`. Command names are
    /// case-sensitive, like sqlite3's.
    ///
    /// Throws a `DotCommandError` with a one-line message for an unknown command, a wrong number of
    /// arguments, or an argument that is not valid (a mode, an on/off switch, a node id, role or address,
    /// a parameter name or value).
    public init(parsing line: some StringProtocol) throws(DotCommandError) {
        var arguments = try DotCommandArguments(line: Substring(line))
        guard let name = arguments.next(), name != "." else {
            throw DotCommandError("missing command name after \".\"; enter \".help\" for a list")
        }
        switch name {
        case ".help":
            let command = arguments.next()
            try arguments.end(usage: ".help [COMMAND]")
            self = .help(command: command)
        case ".tables":
            let pattern = arguments.next()
            try arguments.end(usage: ".tables [PATTERN]")
            self = .tables(pattern: pattern)
        case ".schema":
            let table = arguments.next()
            try arguments.end(usage: ".schema [TABLE]")
            self = .schema(table: table)
        case ".databases":
            try arguments.end(usage: ".databases")
            self = .databases
        case ".read":
            let path = try arguments.required("FILE", usage: ".read FILE")
            try arguments.end(usage: ".read FILE")
            self = .read(path: path)
        case ".quit", ".exit":
            try arguments.end(usage: name)
            self = .quit
        case ".mode":
            self = .mode(try Self.parseMode(&arguments))
        case ".headers", ".header":
            self = .headers(try Self.parseSwitch(&arguments, usage: "\(name) on|off"))
        case ".timer":
            self = .timer(try Self.parseSwitch(&arguments, usage: ".timer on|off"))
        case ".bail":
            self = .bail(try Self.parseSwitch(&arguments, usage: ".bail on|off"))
        case ".output":
            let path = arguments.next()
            try arguments.end(usage: ".output [FILE]")
            self = .output(path: path)
        case ".dump":
            let path = arguments.next()
            try arguments.end(usage: ".dump [FILE]")
            self = .dump(path: path)
        case ".param", ".parameter":
            self = .param(try Self.parseParam(&arguments, command: name))
        default:
            self = try Self.parseClusterCommand(name, &arguments)
        }
    }

    private static func parseClusterCommand(
        _ name: String, _ arguments: inout DotCommandArguments
    ) throws(DotCommandError) -> DotCommand {
        switch name {
        case ".leader":
            try arguments.end(usage: ".leader")
            return .leader
        case ".cluster":
            try arguments.end(usage: ".cluster")
            return .cluster
        case ".add":
            let usage = ".add ID ADDRESS [ROLE]"
            let id = try nodeID(try arguments.required("ID", usage: usage), command: name)
            let address = try nodeAddress(try arguments.required("ADDRESS", usage: usage), command: name)
            let role = try arguments.next().map { text throws(DotCommandError) in try nodeRole(text, command: name) }
            try arguments.end(usage: usage)
            return .add(id: id, address: address, role: role ?? .voter)
        case ".assign":
            let usage = ".assign ID ROLE"
            let id = try nodeID(try arguments.required("ID", usage: usage), command: name)
            let role = try nodeRole(try arguments.required("ROLE", usage: usage), command: name)
            try arguments.end(usage: usage)
            return .assign(id: id, role: role)
        case ".remove":
            let usage = ".remove ID|ADDRESS"
            let target = try arguments.required("ID or ADDRESS", usage: usage)
            try arguments.end(usage: usage)
            if target.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) {
                return .remove(.id(try nodeID(target, command: name)))
            }
            return .remove(.address(try nodeAddress(target, command: name)))
        case ".transfer":
            let id = try arguments.next().map { text throws(DotCommandError) in try nodeID(text, command: name) }
            try arguments.end(usage: ".transfer [ID]")
            return .transfer(id: id)
        case ".describe":
            let address = try arguments.next().map { text throws(DotCommandError) in
                try nodeAddress(text, command: name)
            }
            try arguments.end(usage: ".describe [ADDRESS]")
            return .describe(address: address)
        case ".weight":
            let usage = ".weight ADDRESS N"
            let address = try nodeAddress(try arguments.required("ADDRESS", usage: usage), command: name)
            let text = try arguments.required("N", usage: usage)
            guard let weight = UInt64(text) else {
                throw DotCommandError(".weight: N must be a non-negative integer, got \(quoted(text))")
            }
            try arguments.end(usage: usage)
            return .weight(address: address, weight: weight)
        default:
            throw DotCommandError("unknown command \(quoted(name)); enter \".help\" for a list")
        }
    }

    private static func parseMode(_ arguments: inout DotCommandArguments) throws(DotCommandError) -> OutputMode? {
        let names = OutputMode.allCases.map(\.rawValue).joined(separator: ", ")
        guard let text = arguments.next() else { return nil }
        try arguments.end(usage: ".mode [MODE]")
        guard let mode = OutputMode(name: text) else {
            throw DotCommandError(".mode: unknown mode \(quoted(text)); modes are \(names)")
        }
        return mode
    }

    private static func parseSwitch(
        _ arguments: inout DotCommandArguments, usage: String
    ) throws(DotCommandError) -> Bool {
        let text = try arguments.required("on or off", usage: usage)
        try arguments.end(usage: usage)
        switch text.lowercased() {
        case "on", "yes", "true", "1": return true
        case "off", "no", "false", "0": return false
        default: throw DotCommandError("expected on or off, got \(quoted(text)); usage: \(usage)")
        }
    }

    private static func parseParam(
        _ arguments: inout DotCommandArguments, command: String
    ) throws(DotCommandError) -> ParameterCommand {
        guard let subcommand = arguments.next() else { return .list }
        switch subcommand {
        case "set":
            let usage = "\(command) set NAME VALUE"
            let name = try parameterName(try arguments.required("NAME", usage: usage))
            let rest = arguments.rest
            guard !rest.isEmpty else { throw DotCommandError("missing VALUE; usage: \(usage)") }
            return .set(name: name, value: try ParameterLiteral.parse(String(rest)))
        case "unset":
            let usage = "\(command) unset NAME"
            let name = try parameterName(try arguments.required("NAME", usage: usage))
            try arguments.end(usage: usage)
            return .unset(name: name)
        case "list":
            try arguments.end(usage: "\(command) list")
            return .list
        case "clear":
            try arguments.end(usage: "\(command) clear")
            return .clear
        default:
            throw DotCommandError(
                "\(command): unknown subcommand \(quoted(subcommand)); use set, unset, list or clear")
        }
    }

    private static func parameterName(_ text: String) throws(DotCommandError) -> String {
        guard ParameterTable.isValidName(text) else {
            throw DotCommandError(
                "invalid parameter name \(quoted(text)): use :NAME, @NAME, $NAME or ?N (N from 1 to 32766)")
        }
        return text
    }

    private static func nodeID(_ text: String, command: String) throws(DotCommandError) -> UInt64 {
        guard let id = UInt64(text), id > 0 else {
            throw DotCommandError("\(command): a node ID is a positive integer, got \(quoted(text))")
        }
        return id
    }

    private static func nodeRole(_ text: String, command: String) throws(DotCommandError) -> ShellNodeRole {
        guard let role = ShellNodeRole(name: text) else {
            throw DotCommandError("\(command): unknown role \(quoted(text)); roles are voter, standby, spare")
        }
        return role
    }

    /// Accepts `HOST:PORT` (port 1–65535; IPv6 hosts in brackets) and `@name` abstract Unix sockets, by the
    /// one address grammar (DqliteWire's ``NodeAddressSyntax``); returns the canonical text.
    private static func nodeAddress(_ text: String, command: String) throws(DotCommandError) -> String {
        func invalid(_ why: String) -> DotCommandError {
            DotCommandError(
                "\(command): an address is HOST:PORT (or @NAME for an abstract socket), got \(quoted(text)): \(why)")
        }
        let syntax: NodeAddressSyntax
        do {
            syntax = try NodeAddressSyntax(parsing: text)
        } catch {
            throw invalid(error.reason)
        }
        if case .unix = syntax { throw invalid("Unix socket paths cannot be node addresses") }
        return syntax.description
    }

    static func quoted(_ text: String) -> String {
        "\"" + ValueFormatter.escapingControlCharacters(text) + "\""
    }
}

/// Splits a dot-command line into arguments, keeping the raw rest of the line available.
struct DotCommandArguments {
    private var remaining: Substring

    init(line: Substring) throws(DotCommandError) {
        remaining = line
        // Validate quoting up front so every later `next()` succeeds.
        var probe = self
        while try probe.nextChecked() != nil {}
    }

    /// The unparsed rest of the line, without leading or trailing blanks.
    var rest: Substring {
        var text = remaining.drop { $0 == " " || $0 == "\t" }
        while let last = text.last, last == " " || last == "\t" || last == "\r" || last == "\n" {
            text = text.dropLast()
        }
        return text
    }

    mutating func next() -> String? {
        (try? nextChecked()) ?? nil
    }

    mutating func required(_ what: String, usage: String) throws(DotCommandError) -> String {
        guard let argument = next() else { throw DotCommandError("missing \(what); usage: \(usage)") }
        return argument
    }

    mutating func end(usage: String) throws(DotCommandError) {
        if let extra = next() {
            throw DotCommandError("unexpected argument \(DotCommand.quoted(extra)); usage: \(usage)")
        }
    }

    private mutating func nextChecked() throws(DotCommandError) -> String? {
        remaining = remaining.drop { $0.isWhitespace }
        guard let first = remaining.first else { return nil }
        if first == "'" || first == "\"" {
            var text = ""
            var index = remaining.index(after: remaining.startIndex)
            while index < remaining.endIndex {
                let character = remaining[index]
                index = remaining.index(after: index)
                if character == first {
                    if index < remaining.endIndex, remaining[index] == first {
                        text.append(first)
                        index = remaining.index(after: index)
                        continue
                    }
                    remaining = remaining[index...]
                    return text
                }
                text.append(character)
            }
            throw DotCommandError("unterminated quoted argument \(DotCommand.quoted(String(remaining)))")
        }
        let end = remaining.firstIndex { $0.isWhitespace } ?? remaining.endIndex
        defer { remaining = remaining[end...] }
        return String(remaining[..<end])
    }
}
