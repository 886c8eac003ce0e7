/// The database state the checkers compare with the history (read once per node at the end).
struct FinalState: Sendable, Equatable {
    var setValues: Set<Int64>
    var balances: [Int64: Int64]
    /// tid → (src, dst, amount).
    var transfers: [Int64: Transfer]
    /// tag → (id, other).
    var idOther: [Int64: IDOther]

    struct Transfer: Sendable, Equatable {
        var source: Int64
        var destination: Int64
        var amount: Int64
    }

    struct IDOther: Sendable, Equatable {
        var id: Int64
        var other: Int64
    }
}

/// What the checkers found.
struct CheckResult: Sendable, Codable {
    /// Writes acknowledged ok that the final state lacks (must be 0).
    var lostWrites = 0
    /// Writes reported as definitely failed that the final state has (must be 0).
    var failedButApplied = 0
    /// Indeterminate writes, by what became of them.
    var infoApplied = 0
    var infoNotApplied = 0
    /// Bank reads whose sum was not the total (must be 0).
    var badBankReads = 0
    /// Final balances that the logged transfers do not explain, or a total that changed (must be 0).
    var bankStateErrors = 0
    /// Acknowledged id/other rows with id ≠ other, or an id that is not the acknowledged one (must be 0).
    var idOtherMismatches = 0
    /// Operations that returned after their deadline (must be 0).
    var lateOperations = 0
    /// Errors that were not DqliteError (must be 0).
    var untypedErrors = 0
    /// Human-readable descriptions of every violation (at most 50 kept).
    var violations: [String] = []

    var violationCount: Int {
        lostWrites + failedButApplied + badBankReads + bankStateErrors + idOtherMismatches + lateOperations
            + untypedErrors
    }

    mutating func violation(_ text: String) {
        if violations.count < 50 { violations.append(text) }
    }

    /// Tallies one write (`what`, for messages) against whether it is in the final state: an ok write that is
    /// missing was lost, a failed one that is present took effect, an info one counts either way.
    mutating func tally(_ operation: Operation, present: Bool, _ what: String) {
        switch operation.outcome {
        case .ok where !present:
            lostWrites += 1
            violation("\(what) was acknowledged (op \(operation.id)) but is missing")
        case .fail where present:
            failedButApplied += 1
            violation("\(what) failed with \(operation.error ?? "?") (op \(operation.id)) but is present")
        case .info:
            if present { infoApplied += 1 } else { infoNotApplied += 1 }
        default:
            break
        }
    }
}

/// The set, bank and id/other checkers, and the liveness checks every operation gets.
enum Checkers {
    /// Runs every checker over the whole history against `state`.
    static func check(_ operations: [Operation], against state: FinalState) -> CheckResult {
        var result = CheckResult()
        checkSet(operations, state, &result)
        checkBank(operations, state, &result)
        checkIDOther(operations, state, &result)
        checkLiveness(operations, &result)
        return result
    }

    /// set: every ok insert is present; no fail insert is present.
    static func checkSet(_ operations: [Operation], _ state: FinalState, _ result: inout CheckResult) {
        for operation in operations where operation.workload == .set {
            result.tally(operation, present: state.setValues.contains(operation.key), "set: \(operation.key)")
        }
    }

    /// bank: every read sums to the total; the final balances are the initial ones plus the logged
    /// transfers; ok transfers are logged, failed ones are not.
    static func checkBank(_ operations: [Operation], _ state: FinalState, _ result: inout CheckResult) {
        for operation in operations where operation.workload == .bankRead && operation.outcome == .ok {
            if let sum = operation.sum, sum != Schema.total {
                result.badBankReads += 1
                result.violation("bank: read (op \(operation.id)) summed to \(sum), not \(Schema.total)")
            }
        }
        for operation in operations where operation.workload == .transfer {
            result.tally(
                operation, present: state.transfers[operation.key] != nil, "bank: transfer \(operation.key)")
        }
        var expected: [Int64: Int64] = [:]
        for id in 1...Int64(Schema.accounts) { expected[id] = Schema.initialBalance }
        for transfer in state.transfers.values {
            expected[transfer.source, default: 0] -= transfer.amount
            expected[transfer.destination, default: 0] += transfer.amount
        }
        if expected != state.balances {
            result.bankStateErrors += 1
            result.violation(
                "bank: balances \(state.balances.sorted { $0.key < $1.key }) are not explained by the logged transfers")
        }
        if state.balances.values.reduce(0, +) != Schema.total {
            result.bankStateErrors += 1
            result.violation("bank: the final total is \(state.balances.values.reduce(0, +)), not \(Schema.total)")
        }
    }

    /// id/other (dqlite#46): every acknowledged row exists with id = other = the id the client was given;
    /// no failed row exists.
    static func checkIDOther(_ operations: [Operation], _ state: FinalState, _ result: inout CheckResult) {
        for operation in operations where operation.workload == .idOther {
            let row = state.idOther[operation.key]
            result.tally(operation, present: row != nil, "id/other: tag \(operation.key)")
            guard operation.outcome == .ok, let row else { continue }
            if row.id != row.other || row.id != operation.returned || row.other != operation.expected {
                result.idOtherMismatches += 1
                result.violation(
                    "id/other: tag \(operation.key) has id \(row.id), other \(row.other); the client expected "
                        + "\(operation.expected ?? -1) and was given \(operation.returned ?? -1)")
            }
        }
    }

    /// Every operation returned by its deadline, and every error was a DqliteError.
    static func checkLiveness(_ operations: [Operation], _ result: inout CheckResult) {
        for operation in operations {
            if operation.latency > operation.deadline {
                result.lateOperations += 1
                result.violation(
                    "\(operation.process) op \(operation.id) took \(operation.latency) s (deadline \(operation.deadline) s)"
                )
            }
            if let error = operation.error, error.hasPrefix("untyped:") {
                result.untypedErrors += 1
                result.violation("\(operation.process) op \(operation.id) threw a non-DqliteError: \(error)")
            }
        }
    }
}
