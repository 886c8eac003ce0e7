extension DotCommand {
    /// One line of `.help`: how to call a command and what it does.
    public struct HelpEntry: Hashable, Sendable {
        /// The command and its arguments, e.g. `.mode [MODE]`.
        public let usage: String
        /// What the command does.
        public let summary: String
    }

    /// Every dot-command, in alphabetical order.
    public static let helpEntries: [HelpEntry] = [
        HelpEntry(usage: ".add ID ADDRESS [ROLE]", summary: "Add node ID at ADDRESS as ROLE (voter, standby, spare)"),
        HelpEntry(usage: ".assign ID ROLE", summary: "Change the role of node ID"),
        HelpEntry(usage: ".bail on|off", summary: "Stop a script or .read at the first error"),
        HelpEntry(usage: ".cluster", summary: "List the nodes: id, address, role, leader, reachable or why not"),
        HelpEntry(usage: ".databases", summary: "Show the database this shell uses"),
        HelpEntry(usage: ".describe [ADDRESS]", summary: "Show a node's failure domain and weight (default: leader)"),
        HelpEntry(usage: ".dump [FILE]", summary: "Print the database as SQL, or write it to FILE (and FILE-wal)"),
        HelpEntry(usage: ".exit", summary: "Exit the shell (also .quit)"),
        HelpEntry(usage: ".headers on|off", summary: "Show column names in table and csv output"),
        HelpEntry(usage: ".help [COMMAND]", summary: "Show this help, or the help of commands starting with COMMAND"),
        HelpEntry(usage: ".leader", summary: "Show the leader's id and address"),
        HelpEntry(usage: ".mode [MODE]", summary: "Set the output mode: table, csv, json, line, markdown"),
        HelpEntry(usage: ".output [FILE]", summary: "Write results to FILE, or back to standard output"),
        HelpEntry(usage: ".param clear", summary: "Remove every parameter"),
        HelpEntry(usage: ".param list", summary: "List the parameters"),
        HelpEntry(usage: ".param set NAME VALUE", summary: "Bind VALUE to NAME (:a, @a, $a, ?N) in later statements"),
        HelpEntry(usage: ".param unset NAME", summary: "Remove one parameter"),
        HelpEntry(usage: ".quit", summary: "Exit the shell (also .exit)"),
        HelpEntry(usage: ".read FILE", summary: "Run the SQL and dot-commands in FILE"),
        HelpEntry(usage: ".remove ID|ADDRESS", summary: "Remove a node from the cluster"),
        HelpEntry(usage: ".schema [TABLE]", summary: "Show the CREATE statements of TABLE, or of everything"),
        HelpEntry(usage: ".tables [PATTERN]", summary: "List tables, or those matching the LIKE PATTERN"),
        HelpEntry(usage: ".timer on|off", summary: "Show how long each statement takes"),
        HelpEntry(usage: ".transfer [ID]", summary: "Hand leadership to node ID (default: another voter)"),
        HelpEntry(usage: ".weight ADDRESS N", summary: "Set the weight of the node at ADDRESS"),
    ]

    /// The `.help` text: one aligned line per command whose name starts with `command` (all commands when
    /// nil; a leading `.` is optional), each ending in a newline. Says so when nothing matches.
    public static func helpText(for command: String? = nil) -> String {
        var prefix = command ?? ""
        if !prefix.isEmpty, !prefix.hasPrefix(".") { prefix = "." + prefix }
        let entries = helpEntries.filter { $0.usage.hasPrefix(prefix) }
        guard !entries.isEmpty else {
            return "No command matches \(quoted(prefix)); enter \".help\" for a list\n"
        }
        let width = entries.map(\.usage.count).max() ?? 0
        var text = ""
        for entry in entries {
            text += entry.usage + String(repeating: " ", count: width - entry.usage.count + 2) + entry.summary + "\n"
        }
        if command == nil {
            text += "\nSQL statements end with \";\" and may span lines.\n"
        }
        return text
    }
}
