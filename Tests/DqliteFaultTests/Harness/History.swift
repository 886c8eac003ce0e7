import Dqlite
import Synchronization

/// How an operation ended, in Jepsen's terms, decided by the SDK's own error taxonomy.
enum OpOutcome: String, Sendable, Codable, CaseIterable {
    /// It succeeded.
    case ok
    /// It certainly did not take effect: the SDK said `outcome == .notApplied` (this includes
    /// `transactionAborted`). The suite checks that this is true.
    case fail
    /// It may or may not have taken effect: `ambiguousCommit`, `outcome == .unknown`, timeouts, cancellation.
    case info

    /// Classifies an error thrown by the SDK; the second value names it (the `DqliteError` code, or
    /// `untyped:` and the type for anything else, which the suite reports).
    static func classify(_ error: any Error) -> (OpOutcome, String) {
        guard let error = error as? DqliteError else { return (.info, "untyped:\(type(of: error))") }
        var name = error.code.name
        if let resultCode = error.resultCode { name += "(\(resultCode.rawValue))" }
        switch error.code {
        case .ambiguousCommit, .timeout, .cancelled:
            return (.info, name)
        case .transactionAborted:
            return (.fail, name)
        default:
            return (error.outcome == .unknown ? .info : .fail, name)
        }
    }
}

/// Which workload an operation belongs to.
enum Workload: String, Sendable, Codable, CaseIterable {
    /// Unique inserts into `set_items` (also the nemesis's probe writes).
    case set
    /// Transfers between accounts, in transactions.
    case transfer
    /// Reads of every balance (one statement, or a read transaction).
    case bankRead
    /// dqlite#46: `other` = the id the row should get.
    case idOther
    /// Reads done by workers and the nemesis (counts), retried by the SDK.
    case read
}

/// One operation: invoked, then ok / fail / info.
struct Operation: Sendable, Codable {
    var id: Int
    var workload: Workload
    /// The worker ("set-2", "nemesis", …).
    var process: String
    /// The value inserted (set), the transfer id (transfer), the tag (idOther).
    var key: Int64
    /// Seconds since the run started.
    var invoked: Double
    var completed: Double
    var outcome: OpOutcome
    /// The error's name, if any.
    var error: String?
    /// The error's text (cut to 300 characters).
    var message: String?
    /// The bound the call had to return by, seconds.
    var deadline: Double
    /// idOther: the id the client expected (`other`); the id the server returned (lastInsertID) when ok.
    var expected: Int64?
    var returned: Int64?
    /// bankRead: the sum read.
    var sum: Int64?

    var latency: Double { completed - invoked }
}

/// What ``History/run(_:process:key:deadline:expected:_:)`` returns.
struct OpResult<Value: Sendable>: Sendable {
    var id: Int
    var outcome: OpOutcome
    var value: Value?
    var error: (any Error)?

    /// The error as a DqliteError, if it is one.
    var dqliteError: DqliteError? { error as? DqliteError }
}

/// Every operation of a run, appended from any task.
final class History: Sendable {
    let clock = ContinuousClock()
    let start: ContinuousClock.Instant
    private let operations = Mutex<[Operation]>([])

    init() { start = clock.now }

    /// Seconds since the start of the run.
    func now() -> Double { (clock.now - start).seconds }

    /// Runs `body` as one operation of `workload`, records it, and returns the outcome. A body that has not
    /// returned after `deadline` plus `grace` is cancelled (and recorded as a hang by the checker, since its
    /// latency exceeds the deadline).
    @discardableResult
    func run<Value: Sendable>(
        _ workload: Workload, process: String, key: Int64, deadline: Duration, expected: Int64? = nil,
        _ body: @escaping @Sendable () async throws -> Value
    ) async -> OpResult<Value> {
        let invoked = now()
        let task = Task { try await body() }
        let watchdog = Task {
            try await Task.sleep(for: deadline + .seconds(5))
            task.cancel()
        }
        let result = await task.result
        watchdog.cancel()
        var operation = Operation(
            id: 0, workload: workload, process: process, key: key, invoked: invoked, completed: now(), outcome: .ok,
            error: nil, deadline: deadline.seconds, expected: expected)
        switch result {
        case .success(let value):
            return OpResult(id: record(operation), outcome: .ok, value: value, error: nil)
        case .failure(let error):
            let (outcome, name) = OpOutcome.classify(error)
            operation.outcome = outcome
            operation.error = name
            operation.message = String("\(error)".prefix(300))
            return OpResult(id: record(operation), outcome: outcome, value: nil, error: error)
        }
    }

    /// Sets fields of a recorded operation (e.g. the id an insert returned).
    func annotate(_ id: Int, _ update: (inout Operation) -> Void) {
        operations.withLock { operations in
            guard operations.indices.contains(id) else { return }
            update(&operations[id])
        }
    }

    private func record(_ operation: Operation) -> Int {
        operations.withLock { operations in
            var operation = operation
            operation.id = operations.count
            operations.append(operation)
            return operation.id
        }
    }

    /// Every operation so far.
    var all: [Operation] { operations.withLock { $0 } }

    /// Operations invoked in `[from, to)` (seconds since the start).
    func operations(from: Double, to: Double) -> [Operation] {
        operations.withLock { $0.filter { $0.invoked >= from && $0.invoked < to } }
    }
}
