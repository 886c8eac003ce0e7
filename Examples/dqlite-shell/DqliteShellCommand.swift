import ArgumentParser
import Dqlite
import DqliteServer
import DqliteShellCore
import Foundation

/// `dqlite-shell`: an SQL shell for dqlite. By default it runs its own single node in this process, so it
/// works with nothing else running; `--servers` connects to a cluster instead.
///
/// ```
/// dqlite-shell                                   # embedded node, data under ~/.local/state/dqlite-shell
/// dqlite-shell --memory -c "SELECT 1"            # throwaway node, one command
/// dqlite-shell --servers 10.0.0.1:9001 -d app    # a cluster's "app" database
/// dqlite-shell --servers 10.0.0.1:9001 script.sql < more.sql
/// ```
@main
struct DqliteShellCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dqlite-shell",
        abstract: "An SQL shell for dqlite: an embedded node by default, or a cluster with --servers.",
        discussion: """
            Without --servers or --node-store the shell starts a single dqlite node in this process (data in \
            $XDG_STATE_HOME/dqlite-shell/data, ~/.local/state/dqlite-shell/data, --data DIR, or a temporary \
            directory with --memory) and uses its database. SQL statements end with ";" and may span lines; \
            enter ".help" for the dot-commands. Ctrl-C cancels the running statement (or the input being \
            typed), Ctrl-D exits.

            Non-interactive input (-c, FILE arguments, or piped standard input) exits with status 1 if a \
            statement failed (at once with --bail), 130 if interrupted.
            """)

    @Option(name: [.short, .long], help: "Cluster members to connect to: host:port,host:port,…")
    var servers: String?

    @Option(name: .customLong("node-store"), help: "A JSON node store file listing the cluster's members.")
    var nodeStore: String?

    @Option(name: [.short, .long], help: "The database to use.")
    var database: String = "main"

    @Option(help: "The embedded node's data directory (default: the state directory's \"data\").")
    var data: String?

    @Flag(help: "Run the embedded node in a temporary directory, removed at exit.")
    var memory = false

    @Option(help: "The embedded node's address (default: a stable abstract socket @dqlite-shell-…).")
    var address: String?

    @Option(name: [.customShort("c"), .customLong("command")], help: "SQL or dot-commands to run (repeatable).")
    var commands: [String] = []

    @Argument(help: "Script files to run (\"-\" reads standard input).")
    var files: [String] = []

    @Flag(help: "Stop at the first error.")
    var bail = false

    @Option(help: "Output mode: table, csv, json, line or markdown.")
    var mode: String = "table"

    @Flag(inversion: .prefixedNo, help: "Show column names.")
    var headers = true

    @Option(help: "Seconds to wait when connecting and finding the leader.")
    var timeout: Double = 5

    @Option(
        name: .customLong("statement-timeout"), help: "Seconds a statement may wait for the server (default: no limit)."
    )
    var statementTimeout: Double?

    @Option(help: "Client certificate (PEM) for mutual TLS.")
    var cert: String?

    @Option(help: "Client private key (PEM) for mutual TLS.")
    var key: String?

    @Option(help: "CA certificate (PEM) the servers' certificates must chain to; enables TLS.")
    var ca: String?

    @Option(name: .customLong("server-name"), help: "The name to verify in the servers' certificates.")
    var serverName: String?

    @Option(help: "History file (default: the state directory's \"history\").")
    var history: String?

    @Flag(name: .customLong("no-history"), help: "Keep no history file.")
    var noHistory = false

    mutating func validate() throws {
        let clustered = servers != nil || nodeStore != nil
        if clustered && (data != nil || memory || address != nil) {
            throw ValidationError(
                "--data, --memory and --address are for the embedded node; not with --servers/--node-store")
        }
        if memory && data != nil { throw ValidationError("--memory and --data exclude each other") }
        guard OutputMode(name: mode) != nil else {
            throw ValidationError("--mode must be one of: table, csv, json, line, markdown")
        }
        guard timeout > 0, timeout.isFinite else { throw ValidationError("--timeout must be a positive number") }
        if let statementTimeout, !(statementTimeout > 0) || !statementTimeout.isFinite {
            throw ValidationError("--statement-timeout must be a positive number")
        }
        if (cert == nil) != (key == nil) { throw ValidationError("--cert and --key go together") }
    }

    func run() async throws {
        signal(SIGPIPE, SIG_IGN)
        let interactive = commands.isEmpty && files.isEmpty && isatty(STDIN_FILENO) != 0
        let interrupts = ShellInterrupts(forceExit: {
            let message = Array("\ndqlite-shell: exiting at once (the statement did not stop)\n".utf8)
            _ = message.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
            _exit(130)
        })
        ShellSignals.install(forwardingTo: interrupts)
        let status: Int32
        do {
            if servers != nil || nodeStore != nil {
                let seeds = try (servers ?? "").split(separator: ",").map {
                    try DqliteNodeAddress(String($0.trimmingCharacters(in: .whitespaces)))
                }
                status = try await runShell(nodes: seeds, interactive: interactive, interrupts: interrupts, banner: nil)
            } else {
                status = try await runEmbedded(interactive: interactive, interrupts: interrupts)
            }
        } catch let error as ExitCode {
            throw error
        } catch {
            FileHandle.standardError.write(Data("Error: \(error)\n".utf8))
            throw ExitCode(1)
        }
        if status != 0 { throw ExitCode(status) }
    }

    /// Starts the embedded node, runs the shell on it, stops it.
    private func runEmbedded(interactive: Bool, interrupts: ShellInterrupts) async throws -> Int32 {
        let embedded = try EmbeddedNode.resolve(data: data, memory: memory, address: address)
        defer { embedded.removeIfTemporary() }
        do {
            return try await DqliteNode.withRunningNode(
                id: 1, address: embedded.address, dataDirectory: embedded.dataDirectory
            ) { node in
                embedded.recordAddress()
                let place = embedded.isTemporary ? "a temporary directory, removed at exit" : embedded.dataDirectory
                let banner = "embedded dqlite node \(node.address) (data in \(place))"
                return try await runShell(
                    nodes: [try DqliteNodeAddress(node.address)], interactive: interactive, interrupts: interrupts,
                    banner: banner)
            }
        } catch let error as DqliteNodeError {
            let hint =
                error.code == .dataDirectoryInUse
                ? " (another dqlite-shell? use --memory, or --data with another directory)" : ""
            throw ShellCommandError("cannot start the embedded node: \(error.message)\(hint)")
        }
    }

    /// Runs the shell on the cluster reachable through `nodes` (and `--node-store`).
    private func runShell(
        nodes: [DqliteNodeAddress], interactive: Bool, interrupts: ShellInterrupts, banner: String?
    ) async throws -> Int32 {
        let tls =
            try (ca != nil || cert != nil)
            ? DqliteTLSConfiguration(
                caCertificateFile: ca, certificateFile: cert, privateKeyFile: key, serverName: serverName)
            : nil
        let connectTimeout = Duration.milliseconds(Int64(timeout * 1000))
        let callTimeout = statementTimeout.map { Duration.milliseconds(Int64($0 * 1000)) } ?? .seconds(7 * 24 * 3600)
        let configuration = DqliteClient.Configuration(
            nodes: nodes, database: database,
            nodeStore: nodeStore.map { FileNodeStore(path: $0) } ?? InMemoryNodeStore(),
            // A row stream is interrupted by draining it, and dqlite only reads INTERRUPT once it has sent the
            // whole result: past 2 s of draining the connection is closed instead (which stops the server).
            connection: .init(
                connectTimeout: connectTimeout, defaultCallTimeout: callTimeout,
                interruptDrainTimeout: ClientSession.drainTimeout, tls: tls),
            discovery: .init(probeTimeout: connectTimeout, timeout: connectTimeout),
            pool: .init(maximumConnections: 2, leaseTimeout: connectTimeout))
        let client = DqliteClient(configuration: configuration)
        defer { client.shutdown() }

        var settings = ShellSettings(headers: headers, bail: bail)
        settings.mode = OutputMode(name: mode) ?? .table
        let messages = FileDescriptorSink(descriptor: STDERR_FILENO, name: "standard error", ownsDescriptor: false)
        let output = FileDescriptorSink(descriptor: STDOUT_FILENO, name: "standard output", ownsDescriptor: false)
        let engine = ShellEngine(
            connector: ClientConnector(client: client, statementTimeout: callTimeout), settings: settings,
            standardOutput: output, messages: messages, interrupts: interrupts, connectEagerly: interactive)

        let source: any ShellLineSource
        if interactive {
            let stateDirectory = ShellPaths.stateDirectory(environment: ProcessInfo.processInfo.environment)
            let historyFile = noHistory ? nil : history ?? stateDirectory.map(ShellPaths.historyFile)
            if let historyFile {
                try? FileManager.default.createDirectory(
                    atPath: (historyFile as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            }
            let editor = LineEditor(historyFile: historyFile, interactive: true)
            source = TerminalLineSource(editor: editor, interrupts: interrupts) { messages.write($0 + "\n") }
            output.write("dqlite-shell: \(banner ?? "cluster \(nodes.map(\.description).joined(separator: ","))")\n")
            output.write("Enter \".help\" for usage hints. Ctrl-C cancels a statement, Ctrl-D exits.\n")
            output.flush()
        } else if commands.isEmpty && (files.isEmpty || files == ["-"]) {
            source = FileDescriptorLineSource(
                descriptor: STDIN_FILENO, name: "<stdin>", closeWhenDone: false, interrupts: interrupts)
        } else {
            // -c text first, then each file through .read (so errors name the file and line).
            let reads = files.map { $0 == "-" ? ".read /dev/stdin" : ".read " + Self.quoted($0) }
            source = StringLineSource((commands + reads).joined(separator: "\n"), interrupts: interrupts)
        }
        return await engine.run(source)
    }

    /// A dot-command argument in single quotes.
    private static func quoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
    }
}
