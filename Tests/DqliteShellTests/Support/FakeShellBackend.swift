import DqliteShellCore
import DqliteWire
import Synchronization

/// A scripted cluster for driving `ShellEngine` without a server.
final class FakeDatabase: Sendable {
    /// How the fake answers one statement.
    enum Reply: Sendable {
        /// A result.
        case rows([String], [[WireValue]])
        /// A statement without rows.
        case exec
        /// An error.
        case fail(ShellFailure)
        /// Rows `0, 1, 2, …` under the given column until the task is cancelled.
        case endless(String)
    }

    /// One statement as the fake received it.
    struct Call: Hashable, Sendable {
        var session: Int
        var sql: String
        var parameters: [WireValue]
    }

    struct State {
        var calls: [Call] = []
        var sessions = 0
        /// Connection attempts (1-based) that fail.
        var failingConnects: Set<Int> = []
        var attempts = 0
        var streaming = false
        var settleProblem: ShellFailure?
        var members: [ShellNodeInfo] = []
        var unreachable: Set<String> = []
        var commands: [String] = []
        var dumpFiles: [DumpFile] = []
    }

    let state = Mutex(State())
    private let responder: @Sendable (String) -> Reply

    /// A database that answers each SQL text with `responder` (default: no rows).
    init(_ responder: @escaping @Sendable (String) -> Reply = { _ in .exec }) {
        self.responder = responder
    }

    func reply(to sql: String) -> Reply { responder(sql) }

    var calls: [Call] { state.withLock { $0.calls } }
    var sqlTexts: [String] { calls.map(\.sql) }
    var sessions: Int { state.withLock { $0.sessions } }
    var isStreaming: Bool { state.withLock { $0.streaming } }
    var commands: [String] { state.withLock { $0.commands } }

    /// Waits (up to 5 s) until an endless result is being read.
    func waitUntilStreaming() async throws {
        for _ in 0..<500 {
            if isStreaming { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw ShellFailure(message: "the query never started streaming")
    }
}

struct FakeConnector: ShellConnector {
    let database = "main"
    let fake: FakeDatabase

    var cluster: any ShellCluster { FakeCluster(fake: fake) }

    func withSession<Result>(_ body: (any ShellSession) async throws -> Result) async throws -> Result {
        let id: Int = try fake.state.withLock { state in
            state.attempts += 1
            if state.failingConnects.contains(state.attempts) {
                throw ShellFailure(message: "no leader found (noLeader)")
            }
            state.sessions += 1
            return state.sessions
        }
        return try await body(FakeSession(id: id, fake: fake))
    }

    func describe(_ error: any Error) -> ShellFailure {
        if let failure = error as? ShellFailure { return failure }
        if error is CancellationError { return ShellFailure(message: "cancelled") }
        return ShellFailure(message: "\(error)")
    }
}

struct FakeSession: ShellSession {
    let id: Int
    let fake: FakeDatabase

    var node: String { "node-\(id)" }

    func run<Sink: ShellRowSink>(
        _ sql: String, parameters: [WireValue], returnsRows: Bool, sink: inout Sink
    ) async throws -> ShellExecSummary {
        fake.state.withLock { $0.calls.append(.init(session: id, sql: sql, parameters: parameters)) }
        switch fake.reply(to: sql) {
        case .rows(let columns, let rows):
            sink.begin(columns: columns)
            for row in rows { try sink.row(row) }
            return ShellExecSummary(rows: rows.count)
        case .exec:
            return ShellExecSummary(rowsAffected: 0)
        case .fail(let failure):
            throw failure
        case .endless(let column):
            sink.begin(columns: [column])
            fake.state.withLock { $0.streaming = true }
            defer { fake.state.withLock { $0.streaming = false } }
            var value: Int64 = 0
            while true {
                try sink.row([.integer(value)])
                value += 1
                try await Task.sleep(for: .milliseconds(1))
            }
        }
    }

    func settleAfterInterrupt() async -> ShellFailure? {
        fake.state.withLock { $0.settleProblem }
    }
}

struct FakeCluster: ShellCluster {
    let fake: FakeDatabase

    private func record(_ command: String) {
        fake.state.withLock { $0.commands.append(command) }
    }

    func leader() async throws -> ShellNodeInfo {
        guard let first = fake.state.withLock({ $0.members.first }) else {
            throw ShellFailure(message: "no leader found (noLeader)")
        }
        return first
    }

    func members() async throws -> (members: [ShellNodeInfo], leader: String?) {
        let members = fake.state.withLock { $0.members }
        return (members, members.first?.address)
    }

    func probe(_ address: String, timeout: Duration) async -> ShellReachability {
        fake.state.withLock { $0.unreachable.contains(address) } ? .unreachable("connection refused") : .reachable
    }

    func add(id: UInt64, address: String, role: ShellNodeRole) async throws { record("add \(id) \(address) \(role)") }
    func assign(id: UInt64, role: ShellNodeRole) async throws { record("assign \(id) \(role)") }
    func remove(_ node: NodeReference) async throws { record("remove \(node)") }

    func transfer(to id: UInt64?) async throws -> ShellNodeInfo {
        record("transfer \(id.map(String.init) ?? "any")")
        return ShellNodeInfo(id: id ?? 2, address: "127.0.0.1:900\(id ?? 2)", role: .voter)
    }

    func describe(address: String?) async throws -> ShellNodeMetadata {
        ShellNodeMetadata(address: address ?? "127.0.0.1:9001", failureDomain: 3, weight: 7)
    }

    func setWeight(_ weight: UInt64, address: String) async throws { record("weight \(address) \(weight)") }

    func dump(database: String) async throws -> [DumpFile] {
        fake.state.withLock { $0.dumpFiles }
    }
}

/// Input lines for an interactive shell, with Ctrl-C at chosen points.
final class ScriptedTerminal: ShellLineSource {
    enum Entry {
        case line(String)
        case interrupt
    }

    let name: String? = nil
    let isInteractive = true
    private(set) var lineNumber = 0
    private var entries: [Entry]
    private(set) var prompts: [String] = []
    private(set) var history: [String] = []

    init(_ entries: [Entry]) {
        self.entries = entries.reversed()
    }

    func nextLine(prompt: String) async -> ShellLine {
        prompts.append(prompt)
        switch entries.popLast() {
        case .line(let text)?:
            lineNumber += 1
            return .line(text)
        case .interrupt?:
            return .interrupted
        case nil:
            return .end
        }
    }

    func addHistory(_ line: String) {
        history.append(line)
    }
}

/// A shell over a fake database, with its output.
struct ShellHarness {
    let fake: FakeDatabase
    let output = MemorySink()
    let messages = MemorySink()
    let interrupts = ShellInterrupts()
    let engine: ShellEngine

    init(_ fake: FakeDatabase = FakeDatabase(), settings: ShellSettings = ShellSettings()) {
        self.fake = fake
        engine = ShellEngine(
            connector: FakeConnector(fake: fake), settings: settings, standardOutput: output, messages: messages,
            interrupts: interrupts)
    }

    /// Runs a script (non-interactive) and returns the exit status.
    func run(_ script: String, name: String? = "script.sql") async -> Int32 {
        await engine.run(StringLineSource(script, name: name))
    }
}
