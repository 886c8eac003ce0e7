import Dqlite
import Testing

extension FaultSuite {
    /// The checkers must catch what they claim to catch: each is fed a history with one planted violation.
    @Suite("Checkers find planted violations")
    struct CheckerTests {
        static func operation(
            _ workload: Workload, key: Int64, _ outcome: OpOutcome, latency: Double = 0.1, expected: Int64? = nil,
            returned: Int64? = nil, sum: Int64? = nil, error: String? = nil
        ) -> Operation {
            Operation(
                id: Int(key), workload: workload, process: "test", key: key, invoked: 0, completed: latency,
                outcome: outcome, error: error ?? (outcome == .ok ? nil : "x"), deadline: 1, expected: expected,
                returned: returned, sum: sum)
        }

        static var cleanState: FinalState {
            var balances: [Int64: Int64] = [:]
            for id in 1...Int64(Schema.accounts) { balances[id] = Schema.initialBalance }
            balances[1] = Schema.initialBalance - 5
            balances[2] = Schema.initialBalance + 5
            return FinalState(
                setValues: [1, 2, 4], balances: balances,
                transfers: [10: .init(source: 1, destination: 2, amount: 5)],
                idOther: [1: .init(id: 1, other: 1), 2: .init(id: 2, other: 2)])
        }

        static var cleanHistory: [Operation] {
            [
                operation(.set, key: 1, .ok), operation(.set, key: 2, .ok), operation(.set, key: 3, .fail),
                operation(.set, key: 4, .info), operation(.transfer, key: 10, .ok),
                operation(.transfer, key: 11, .fail), operation(.bankRead, key: 1, .ok, sum: Schema.total),
                operation(.idOther, key: 1, .ok, expected: 1, returned: 1),
                operation(.idOther, key: 3, .fail, expected: 2),
                operation(.idOther, key: 2, .ok, expected: 2, returned: 2),
            ]
        }

        @Test("a clean history passes every checker")
        func clean() {
            let result = Checkers.check(Self.cleanHistory, against: Self.cleanState)
            #expect(result.violationCount == 0, "\(result.violations)")
            #expect(result.infoApplied == 1)
        }

        @Test("a lost acknowledged insert, transfer or id/other row is found")
        func lost() {
            var state = Self.cleanState
            state.setValues.remove(2)
            state.idOther[2] = nil
            #expect(Checkers.check(Self.cleanHistory, against: state).lostWrites == 2)
            var bank = Self.cleanState
            bank.transfers = [:]
            let result = Checkers.check(Self.cleanHistory, against: bank)
            #expect(result.lostWrites == 1)
            #expect(result.bankStateErrors == 1)  // the balances no longer match the log
        }

        @Test("a write reported as failed that took effect is found")
        func failedButApplied() {
            var state = Self.cleanState
            state.setValues.insert(3)
            state.idOther[3] = .init(id: 3, other: 2)
            #expect(Checkers.check(Self.cleanHistory, against: state).failedButApplied == 2)
        }

        @Test("a bank read with the wrong total, and id ≠ other, are found")
        func wrongValues() {
            var history = Self.cleanHistory
            history.append(Self.operation(.bankRead, key: 2, .ok, sum: Schema.total - 1))
            var state = Self.cleanState
            state.idOther[2] = .init(id: 3, other: 2)
            let result = Checkers.check(history, against: state)
            #expect(result.badBankReads == 1)
            #expect(result.idOtherMismatches == 1)
        }

        @Test("a late call and an untyped error are found")
        func liveness() {
            var history = Self.cleanHistory
            history.append(Self.operation(.set, key: 50, .info, latency: 2, error: "untyped:CancellationError"))
            let result = Checkers.check(history, against: Self.cleanState)
            #expect(result.lateOperations == 1)
            #expect(result.untypedErrors == 1)
        }

        @Test("the memory probe sees a large allocation, written or only reserved")
        func memoryProbe() async {
            let (_, touched) = await MemoryProbe.measure { () -> UInt8 in
                var buffer = [UInt8](repeating: 1, count: 300 << 20)
                buffer[buffer.count - 1] = 2
                return buffer[0] &+ buffer[buffer.count - 1]
            }
            #expect(touched.residentPeak >= 256 << 20, "\(touched)")
            let (_, reserved) = await MemoryProbe.measure { () -> Int in
                var buffer: [UInt8] = []
                buffer.reserveCapacity(2 << 30)
                return buffer.capacity
            }
            #expect(reserved.virtualPeak >= 1 << 30, "\(reserved)")
        }

        @Test("the SDK's taxonomy maps to ok / fail / info")
        func classification() {
            #expect(OpOutcome.classify(DqliteError(.ambiguousCommit, "", outcome: .unknown)).0 == .info)
            #expect(OpOutcome.classify(DqliteError(.transactionAborted, "")).0 == .fail)
            #expect(OpOutcome.classify(DqliteError(.timeout, "")).0 == .info)
            #expect(OpOutcome.classify(DqliteError(.noLeader, "")).0 == .fail)
            #expect(OpOutcome.classify(DqliteError(.connectionClosed, "", outcome: .unknown)).0 == .info)
            #expect(OpOutcome.classify(FaultTestFailure("x")).1.hasPrefix("untyped:"))
        }
    }
}
