import DqliteWire

/// The shell's local state that dot-commands change without talking to the cluster.
public struct ShellSettings: Hashable, Sendable {
    /// `.mode`.
    public var mode: OutputMode
    /// `.headers`.
    public var headers: Bool
    /// `.timer`.
    public var timer: Bool
    /// `.bail`.
    public var bail: Bool
    /// `.param`.
    public var parameters: ParameterTable
    /// What NULL looks like in the table, line and markdown modes.
    public var nullText: String
    /// Rows per table batch and the widest table cell (see `RenderOptions`).
    public var batchSize: Int
    /// The widest table cell, in terminal columns (nil: no limit).
    public var maxCellWidth: Int?

    /// Creates the default settings: table mode with headers, timer and bail off, no parameters.
    public init(
        mode: OutputMode = .table, headers: Bool = true, timer: Bool = false, bail: Bool = false,
        parameters: ParameterTable = ParameterTable(), nullText: String = "NULL", batchSize: Int = 1000,
        maxCellWidth: Int? = 200
    ) {
        self.mode = mode
        self.headers = headers
        self.timer = timer
        self.bail = bail
        self.parameters = parameters
        self.nullText = nullText
        self.batchSize = batchSize
        self.maxCellWidth = maxCellWidth
    }

    /// The options for rendering a result with these settings.
    public var renderOptions: RenderOptions {
        RenderOptions(
            mode: mode, headers: headers, nullText: nullText, batchSize: batchSize, maxCellWidth: maxCellWidth)
    }

    /// Applies a command that only reads or changes these settings: `.help`, `.mode`, `.headers`,
    /// `.timer`, `.bail` and `.param`. Returns the text to print (possibly empty; non-empty text ends in a
    /// newline), or nil when the command is not one of these and the caller must carry it out.
    public mutating func apply(_ command: DotCommand) -> String? {
        switch command {
        case .help(let topic): return DotCommand.helpText(for: topic)
        case .mode(nil): return "current output mode: \(mode.rawValue)\n"
        case .mode(let newMode?): mode = newMode
        case .headers(let on): headers = on
        case .timer(let on): timer = on
        case .bail(let on): bail = on
        case .param(.set(let name, let value)): parameters[name] = value
        case .param(.unset(let name)): parameters[name] = nil
        case .param(.clear): parameters.removeAll()
        case .param(.list): return parameterList
        default: return nil
        }
        return ""
    }

    /// `.param list`: one `name value` line per parameter, values as SQL literals, names aligned.
    private var parameterList: String {
        let entries = parameters.entries
        let width = entries.map { DisplayWidth.of($0.name) }.max() ?? 0
        return entries.map { entry in
            entry.name + String(repeating: " ", count: width - DisplayWidth.of(entry.name) + 1)
                + ValueFormatter.sqlLiteral(entry.value) + "\n"
        }.joined()
    }
}
