import DqliteWire

/// A shell dot-command, parsed and validated (see `init(parsing:)` and `DotCommand.helpText`).
public enum DotCommand: Hashable, Sendable {
    /// `.help [COMMAND]`: all commands, or the ones whose name starts with COMMAND.
    case help(command: String?)
    /// `.tables [PATTERN]`: table names, optionally filtered by a `LIKE` pattern.
    case tables(pattern: String?)
    /// `.schema [TABLE]`: `CREATE` statements, of one table or of everything.
    case schema(table: String?)
    /// `.databases`: the database this shell uses.
    case databases
    /// `.read FILE`: run the SQL and dot-commands in a file.
    case read(path: String)
    /// `.quit` or `.exit`.
    case quit
    /// `.mode [MODE]`: set the output mode; nil shows the current one.
    case mode(OutputMode?)
    /// `.headers on|off` (also `.header`).
    case headers(Bool)
    /// `.timer on|off`.
    case timer(Bool)
    /// `.output [FILE]`: results to a file, or (nil) back to standard output.
    case output(path: String?)
    /// `.param …` (also `.parameter`).
    case param(ParameterCommand)
    /// `.leader`: the leader's id and address.
    case leader
    /// `.cluster`: every node with its role.
    case cluster
    /// `.add ID ADDRESS [ROLE]`: add a node (ROLE defaults to voter).
    case add(id: UInt64, address: String, role: ShellNodeRole)
    /// `.assign ID ROLE`: change a node's role.
    case assign(id: UInt64, role: ShellNodeRole)
    /// `.remove ID|ADDRESS`: remove a node.
    case remove(NodeReference)
    /// `.transfer [ID]`: hand leadership to a node (nil: the shell picks another voter).
    case transfer(id: UInt64?)
    /// `.describe [ADDRESS]`: a node's failure domain and weight (nil: the leader).
    case describe(address: String?)
    /// `.weight ADDRESS N`: set a node's weight.
    case weight(address: String, weight: UInt64)
    /// `.dump [FILE]`: the database as the database file and its WAL (`FILE`, `FILE-wal`), or (nil) as SQL
    /// text on the current output.
    case dump(path: String?)
    /// `.bail on|off`: stop a script at the first error.
    case bail(Bool)
}

/// The subcommands of `.param`.
public enum ParameterCommand: Hashable, Sendable {
    /// `.param set NAME VALUE` (VALUE parsed by `ParameterLiteral.parse`).
    case set(name: String, value: WireValue)
    /// `.param unset NAME`.
    case unset(name: String)
    /// `.param list` (also plain `.param`).
    case list
    /// `.param clear`.
    case clear
}

/// A node named by id or by address (`.remove`).
public enum NodeReference: Hashable, Sendable {
    /// A Raft node id (a positive integer).
    case id(UInt64)
    /// A node address (`HOST:PORT` or `@abstract-socket`).
    case address(String)
}
