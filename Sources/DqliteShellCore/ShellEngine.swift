import DqliteSQL
import DqliteWire

/// The shell's read–eval–print loop, independent of the terminal and of the client library: it reads lines
/// from a ``ShellLineSource``, runs statements on one ``ShellSession`` leased from a ``ShellConnector`` for
/// the whole session (so `BEGIN` holds across lines), runs dot-commands, and writes results and messages
/// to sinks.
///
/// - Statements and cluster commands run under ``ShellInterrupts/run(_:)``: Ctrl-C cancels them. An
///   interrupted query is then settled on the server (INTERRUPT and drain); interactively the shell goes
///   back to the prompt, a script stops (exit status 130).
/// - A connection that dies is replaced: the shell says so, says when an open transaction was lost with it,
///   and runs the statement again on the new connection only when it certainly did not run the first time
///   and no transaction was open.
/// - Errors are one line on the message sink (`Error: …`, with `FILE:LINE:` for scripts). A script goes on
///   after an error unless `.bail on`; its exit status is 1 if anything failed.
public final class ShellEngine {
    /// `.mode`, `.headers`, `.timer`, `.bail`, `.param`.
    public var settings: ShellSettings
    /// Where results go now (standard output, or the `.output` file).
    public private(set) var results: any ShellTextSink
    /// Standard output (`.output` with no file goes back to it).
    public let standardOutput: any ShellTextSink
    /// Where errors and notices go (standard error).
    public let messages: any ShellTextSink
    /// The cluster.
    public let connector: any ShellConnector
    /// Ctrl-C.
    public let interrupts: ShellInterrupts
    /// Connect before reading the first line (interactive shells: problems show at once). Otherwise the
    /// session is opened by the first statement that needs it.
    public var connectEagerly: Bool
    /// How long `.cluster` waits for each member to answer.
    public var probeTimeout: Duration = .seconds(1)
    /// How deeply `.read` may nest.
    public var maximumReadDepth = 16
    /// The transaction state of the session, as far as the shell knows.
    public private(set) var transaction = TransactionTracker()
    /// Statements and commands that failed so far.
    public private(set) var errorCount = 0

    private final class SourceFrame {
        let source: any ShellLineSource
        var input = ShellInput()
        init(_ source: any ShellLineSource) { self.source = source }
    }

    /// A statement or command with where it came from.
    struct PendingItem {
        var item: ShellInput.Item
        var location: String?
        var retried = false
    }

    private var frames: [SourceFrame] = []
    private var queue: [PendingItem] = []
    private var pending: PendingItem?
    private var needsSession = false
    private var finished = false
    private var interruptedScript = false
    private var everConnected = false

    /// Creates a shell.
    public init(
        connector: any ShellConnector, settings: ShellSettings = ShellSettings(), standardOutput: any ShellTextSink,
        messages: any ShellTextSink, interrupts: ShellInterrupts, connectEagerly: Bool = false
    ) {
        self.connector = connector
        self.settings = settings
        self.standardOutput = standardOutput
        self.results = standardOutput
        self.messages = messages
        self.interrupts = interrupts
        self.connectEagerly = connectEagerly
    }

    /// Runs the shell until the input ends, `.quit`, or (scripts) an error with `.bail on` or Ctrl-C.
    /// Returns the exit status: 0; 1 when a script had errors or the cluster could not be reached; 130
    /// when a script was interrupted.
    public func run(_ source: any ShellLineSource) async -> Int32 {
        frames = [SourceFrame(source)]
        isInteractive = source.isInteractive
        queue = []
        pending = nil
        finished = false
        interruptedScript = false
        needsSession = connectEagerly
        var unreachable = false
        while !finished {
            if needsSession {
                needsSession = false
                do {
                    try await connector.withSession { session in
                        self.connected(to: session.node)
                        await self.loop(session)
                    }
                    continue
                } catch {
                    let failure = connector.describe(error)
                    if let item = pending {
                        pending = nil
                        fail("cannot connect: \(failure.message)", at: item)
                    } else {
                        fail("cannot connect: \(failure.message)", at: nil)
                    }
                    if !everConnected || !isInteractive {
                        unreachable = true
                        break
                    }
                    note("not connected; the next statement tries again")
                }
            }
            await loop(nil)
        }
        results.flush()
        results = standardOutput
        standardOutput.flush()
        messages.flush()
        if interruptedScript { return 130 }
        if unreachable { return 1 }
        return !isInteractive && errorCount > 0 ? 1 : 0
    }

    /// True when the outermost input is the terminal.
    private var isInteractive = false

    private func connected(to node: String) {
        if everConnected {
            note("reconnected to \(node)")
        } else if isInteractive {
            note("connected to \(node), database \"\(connector.database)\"")
        }
        everConnected = true
    }

    // MARK: - The loop

    /// Runs items until the input ends or a (new) session is needed.
    private func loop(_ session: (any ShellSession)?) async {
        if let item = pending {
            pending = nil
            guard let session else {
                pending = item
                needsSession = true
                return
            }
            await handle(item, session: session)
        }
        while !finished && !needsSession {
            if results === standardOutput, standardOutput.failure != nil {
                // The reader of standard output went away (e.g. a pager quit): nothing more can be shown.
                finished = true
                return
            }
            guard let item = await nextItem() else {
                finished = true
                return
            }
            await handle(item, session: session)
        }
    }

    private func handle(_ item: PendingItem, session: (any ShellSession)?) async {
        switch item.item {
        case .statement(let statement):
            guard let session else {
                pending = item
                needsSession = true
                return
            }
            await execute(statement, item: item, session: session)
        case .command(.success(let command)):
            await perform(command, item: item, session: session)
        case .command(.failure(let error)):
            fail(error.message, at: item)
        }
    }

    /// The next statement or command: from the queue, else from the innermost source.
    private func nextItem() async -> PendingItem? {
        while true {
            if !queue.isEmpty { return queue.removeFirst() }
            guard let frame = frames.last else { return nil }
            if interrupts.isTerminating { return nil }
            let prompt = frame.source.isInteractive ? frame.input.prompt : ""
            switch await frame.source.nextLine(prompt: prompt) {
            case .line(let text):
                if frame.source.isInteractive { frame.source.addHistory(text) }
                let location = frame.source.name.map { "\($0):\(frame.source.lineNumber)" }
                queue += frame.input.feed(line: text).map { PendingItem(item: $0, location: location) }
            case .interrupted:
                if frame.source.isInteractive {
                    frame.input.discardPending()
                } else {
                    note("Interrupted")
                    stopScripts(interrupted: true)
                }
            case .end:
                if frame.source.isInteractive {
                    frame.input.discardPending()  // Ctrl-D leaves; it does not run a half-typed statement
                } else {
                    let location = frame.source.name.map { "\($0):\(frame.source.lineNumber)" }
                    queue += frame.input.finish().map { PendingItem(item: $0, location: location) }
                }
                frames.removeLast()
                if frames.isEmpty && queue.isEmpty { return nil }
            }
        }
    }

    /// After Ctrl-C or an error with `.bail on`: a script stops; an interactive shell stops the `.read`
    /// files in progress and goes back to the prompt.
    private func stopScripts(interrupted: Bool) {
        queue.removeAll()
        if isInteractive {
            frames.removeSubrange(1...)
            frames.first?.input.discardPending()
        } else {
            if interrupted { interruptedScript = true }
            finished = true
        }
    }

    // MARK: - Statements

    private func execute(_ statement: Statement, item: PendingItem, session: any ShellSession) async {
        let parameters = statement.parameterValues(from: settings.parameters)
        let options = settings.renderOptions
        let output = results
        let clock = ContinuousClock()
        let started = clock.now
        let outcome = await interrupts.run { () async throws -> ShellExecSummary in
            var sink = RenderingSink(options: options, output: output)
            do {
                let summary = try await session.run(
                    statement.text, parameters: parameters, returnsRows: statement.returnsRows, sink: &sink)
                sink.finish()
                return summary
            } catch {
                sink.finish()
                throw error
            }
        }
        results.flush()
        if outcome.interrupted {
            if case .success = outcome.result { transaction.record(succeeded: statement.transactionControl) }
            await interrupted(session: session, statement: statement)
            return
        }
        switch outcome.result {
        case .success:
            transaction.record(succeeded: statement.transactionControl)
            if settings.timer { printTimer(clock.now - started) }
        case .failure(let error):
            let failure = describe(error)
            if failure.connectionLost {
                connectionLost(failure, item: item, statement: statement, node: session.node)
            } else {
                fail(failure.message, at: item)
            }
        }
    }

    /// After Ctrl-C stopped a statement or command: settle the session and stop any script.
    private func interrupted(session: (any ShellSession)?, statement: Statement?) async {
        note("Interrupted")
        if let session, let problem = await session.settleAfterInterrupt() {
            note(problem.message + "; reconnecting")
            let transactionWasOpen = transaction.isOpen
            transaction.reset()
            needsSession = true
            if transactionWasOpen { note(Self.transactionLost) }
        }
        stopScripts(interrupted: true)
    }

    /// The session's connection is gone: reconnect, and say what that means for the statement and for an
    /// open transaction.
    private func connectionLost(_ failure: ShellFailure, item: PendingItem?, statement: Statement?, node: String) {
        let transactionWasOpen = transaction.isOpen
        transaction.reset()
        needsSession = true
        if var item, failure.notApplied, !transactionWasOpen, !item.retried {
            note("connection to \(node) lost (\(failure.message)); reconnecting to run the statement again")
            item.retried = true
            pending = item
            return
        }
        if let item { fail(failure.message, at: item) }
        note("connection to \(node) lost; reconnecting")
        let control = statement?.transactionControl
        if (control == .commit || control == .release) && !failure.notApplied {
            note("the outcome of the commit is unknown: the transaction may or may not have been committed")
        } else if transactionWasOpen {
            note(Self.transactionLost)
        }
    }

    /// What the shell says when a transaction was lost with its connection.
    public static let transactionLost =
        "the open transaction was lost with the connection: the server rolled it back, nothing in it was committed"

    private func printTimer(_ elapsed: Duration) {
        let (seconds, attoseconds) = elapsed.components
        let milliseconds = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        let fraction = String(milliseconds % 1000)
        results.write(
            "Run Time: real \(milliseconds / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)\n")
        results.flush()
    }

    // MARK: - Messages

    func describe(_ error: any Error) -> ShellFailure {
        if let failure = error as? ShellFailure { return failure }
        if let failure = error as? DotCommandError { return ShellFailure(message: failure.message) }
        return connector.describe(error)
    }

    /// Reports an error for `item` (counted; stops a script when `.bail on`).
    func fail(_ message: String, at item: PendingItem?) {
        errorCount += 1
        let location = item?.location.map { "\($0): " } ?? ""
        note("Error: \(location)\(message)")
        if settings.bail { stopScripts(interrupted: false) }
    }

    /// Writes a line to the message sink, after the results written so far.
    func note(_ text: String) {
        results.flush()
        messages.write(text + "\n")
        messages.flush()
    }

    /// Writes text to the results.
    func emit(_ text: String) {
        results.write(text)
        results.flush()
    }

    /// Renders a small result in the current mode.
    func emit(columns: [String], rows: [[WireValue]]) {
        emit(ResultRenderer.render(columns: columns, rows: rows, options: settings.renderOptions))
    }

    // MARK: - Running commands

    /// Runs a command's work under Ctrl-C; reports failures and interrupts. Returns nil when it failed.
    func interruptible<Value: Sendable>(
        item: PendingItem, session: (any ShellSession)?, _ operation: @escaping @Sendable () async throws -> Value
    ) async -> Value? {
        let outcome = await interrupts.run(operation)
        results.flush()
        if outcome.interrupted {
            await interrupted(session: session, statement: nil)
            return nil
        }
        switch outcome.result {
        case .success(let value):
            return value
        case .failure(let error):
            let failure = describe(error)
            if failure.connectionLost, let session {
                // Commands only read through the session: always safe to run again.
                connectionLost(
                    ShellFailure(message: failure.message, connectionLost: true, notApplied: true), item: item,
                    statement: nil, node: session.node)
            } else {
                fail(failure.message, at: item)
            }
            return nil
        }
    }

    /// A command that needs the session: with none, it waits for the connection like a statement.
    func requireSession(_ session: (any ShellSession)?, for item: PendingItem) -> (any ShellSession)? {
        guard let session else {
            pending = item
            needsSession = true
            return nil
        }
        return session
    }

    /// `.quit`.
    func quit() {
        finished = true
    }

    /// `.read FILE`.
    func read(path: String, item: PendingItem) {
        guard frames.count <= maximumReadDepth else {
            fail(".read: nested more than \(maximumReadDepth) deep", at: item)
            return
        }
        do {
            frames.append(SourceFrame(try FileDescriptorLineSource.open(path: path, interrupts: interrupts)))
        } catch {
            fail(error.message, at: item)
        }
    }

    /// `.output [FILE]`.
    func redirectOutput(to path: String?, item: PendingItem) {
        results.flush()
        guard let path, path != "-", path != "stdout" else {
            results = standardOutput
            return
        }
        do {
            results = try FileDescriptorSink.create(path: path)
        } catch {
            fail(error.message, at: item)
        }
    }
}
