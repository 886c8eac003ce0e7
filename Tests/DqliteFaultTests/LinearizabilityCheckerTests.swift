import DqliteWireTestSupport
import Testing

extension FaultSuite {
    /// The register linearizability checker accepts what a real register can do and rejects planted anomalies.
    @Suite("Linearizability checker")
    struct LinearizabilityCheckerTests {
        /// One planned operation: what it was, its interval (`nil` end: indeterminate) and how it ended.
        struct Planned {
            var call: RegisterOp.Call
            var key = 0
            var invoked: UInt64
            var completed: UInt64
            var completion: RegisterOp.Completion
        }

        static func history(_ planned: [Planned]) throws -> RegisterHistory {
            var history = RegisterHistory()
            for operation in planned.sorted(by: { $0.invoked < $1.invoked }) {
                try history.record(
                    operation.call, key: operation.key, invoked: operation.invoked, completed: operation.completed,
                    operation.completion)
            }
            return history
        }

        static func check(_ planned: [Planned], initialValue: Int? = nil) throws -> LinearizabilityResult {
            LinearizabilityChecker(initialValue: initialValue).check(try history(planned))
        }

        static func isViolation(_ result: LinearizabilityResult) -> Bool {
            if case .notLinearizable = result { return true }
            return false
        }

        @Test("a sequential history is linearizable")
        func sequential() throws {
            let result = try Self.check([
                Planned(call: .read, invoked: 0, completed: 5, completion: .read(nil)),
                Planned(call: .write(1), invoked: 10, completed: 20, completion: .ok),
                Planned(call: .read, invoked: 30, completed: 40, completion: .read(1)),
                Planned(call: .compareAndSet(expected: 1, new: 2), invoked: 50, completed: 60, completion: .ok),
                Planned(call: .compareAndSet(expected: 1, new: 3), invoked: 70, completed: 80, completion: .casFailed),
                Planned(call: .read, invoked: 90, completed: 100, completion: .read(2)),
            ])
            #expect(result == .linearizable)
        }

        @Test("overlapping operations are linearizable in some order, including ops that only touch")
        func concurrent() throws {
            // The read overlaps both writes and sees the second; the last read sees the first: write 2, read 2,
            // write 1, read 1.
            let result = try Self.check([
                Planned(call: .write(1), invoked: 0, completed: 100, completion: .ok),
                Planned(call: .write(2), invoked: 10, completed: 50, completion: .ok),
                Planned(call: .read, invoked: 20, completed: 60, completion: .read(2)),
                Planned(call: .read, invoked: 100, completed: 120, completion: .read(1)),
            ])
            #expect(result == .linearizable)
            // A read that returns at the instant a write is invoked may see it (they touch: concurrent).
            let touching = try Self.check([
                Planned(call: .read, invoked: 0, completed: 10, completion: .read(5)),
                Planned(call: .write(5), invoked: 10, completed: 20, completion: .ok),
            ])
            #expect(touching == .linearizable)
            // A register with an initial value.
            let initial = try Self.check(
                [Planned(call: .compareAndSet(expected: 7, new: 8), invoked: 0, completed: 1, completion: .ok)],
                initialValue: 7)
            #expect(initial == .linearizable)
        }

        @Test("a stale read after a newer write completed is not linearizable")
        func staleRead() throws {
            let result = try Self.check([
                Planned(call: .write(1), invoked: 0, completed: 10, completion: .ok),
                Planned(call: .write(2), invoked: 20, completed: 30, completion: .ok),
                Planned(call: .read, invoked: 40, completed: 50, completion: .read(1)),
            ])
            guard case .notLinearizable(let violation) = result else {
                Issue.record("expected a violation, got \(result)")
                return
            }
            #expect(violation.longestPrefix == [0, 1])
            #expect(violation.valueAfterPrefix == 2)
            #expect(violation.blocked.id == 2)
            #expect(violation.description.contains("read 1"))
        }

        @Test("a lost acknowledged write is not linearizable")
        func lostWrite() throws {
            let result = try Self.check([
                Planned(call: .write(1), invoked: 0, completed: 10, completion: .ok),
                Planned(call: .read, invoked: 20, completed: 30, completion: .read(nil)),
            ])
            #expect(Self.isViolation(result))
        }

        @Test("two compare-and-sets from the same value cannot both succeed; a false CAS failure is caught")
        func compareAndSetAnomaly() throws {
            let result = try Self.check([
                Planned(call: .write(0), invoked: 0, completed: 5, completion: .ok),
                Planned(call: .compareAndSet(expected: 0, new: 1), invoked: 10, completed: 20, completion: .ok),
                Planned(call: .compareAndSet(expected: 0, new: 2), invoked: 12, completed: 22, completion: .ok),
            ])
            #expect(Self.isViolation(result))
            let falseFailure = try Self.check([
                Planned(call: .write(5), invoked: 0, completed: 5, completion: .ok),
                Planned(call: .compareAndSet(expected: 5, new: 6), invoked: 10, completed: 20, completion: .casFailed),
            ])
            #expect(Self.isViolation(falseFailure))
        }

        @Test("a read of a value never written is not linearizable")
        func phantomRead() throws {
            let result = try Self.check([
                Planned(call: .write(1), invoked: 0, completed: 30, completion: .ok),
                Planned(call: .write(2), invoked: 5, completed: 30, completion: .ok),
                Planned(call: .read, invoked: 10, completed: 20, completion: .read(7)),
            ])
            #expect(Self.isViolation(result))
        }

        @Test("an indeterminate write may have applied, at any time after its invocation, or not at all")
        func indeterminateWrite() throws {
            let base = [
                Planned(call: .write(1), invoked: 0, completed: 10, completion: .ok),
                Planned(call: .write(2), invoked: 20, completed: 25, completion: .info),
            ]
            let seen = base + [Planned(call: .read, invoked: 1000, completed: 1010, completion: .read(2))]
            #expect(try Self.check(seen) == .linearizable)
            let unseen = base + [Planned(call: .read, invoked: 1000, completed: 1010, completion: .read(1))]
            #expect(try Self.check(unseen) == .linearizable)
            // Once seen it stays applied; and it cannot be seen before it was invoked.
            let reverted = seen + [Planned(call: .read, invoked: 1100, completed: 1110, completion: .read(1))]
            #expect(Self.isViolation(try Self.check(reverted)))
            let early = base + [Planned(call: .read, invoked: 12, completed: 18, completion: .read(2))]
            #expect(Self.isViolation(try Self.check(early)))
            // A failed write never applied; indeterminate reads say nothing.
            let failed = [
                Planned(call: .write(3), invoked: 0, completed: 5, completion: .fail),
                Planned(call: .read, invoked: 10, completed: 15, completion: .info),
                Planned(call: .read, invoked: 20, completed: 25, completion: .read(3)),
            ]
            #expect(Self.isViolation(try Self.check(failed)))
            // A pending (never completed) write counts as indeterminate.
            var history = RegisterHistory()
            history.invoke(.write(4), at: 0)
            try history.record(.read, invoked: 10, completed: 20, .read(4))
            #expect(LinearizabilityChecker().check(history) == .linearizable)
        }

        @Test("keys are independent registers")
        func keys() throws {
            let planned = [
                Planned(call: .write(1), key: 1, invoked: 0, completed: 10, completion: .ok),
                Planned(call: .write(2), key: 2, invoked: 20, completed: 30, completion: .ok),
                Planned(call: .read, key: 1, invoked: 40, completed: 50, completion: .read(1)),
                Planned(call: .read, key: 2, invoked: 40, completed: 50, completion: .read(2)),
            ]
            #expect(try Self.check(planned) == .linearizable)
            var wrong = planned
            wrong[3].completion = .read(1)
            guard case .notLinearizable(let violation) = try Self.check(wrong) else {
                Issue.record("key 2's wrong read was not found")
                return
            }
            #expect(violation.key == 2)
        }

        @Test("the builder refuses completions that do not fit the call")
        func builderMisuse() {
            var history = RegisterHistory()
            let read = history.invoke(.read, at: 10)
            #expect(throws: RegisterHistory.Misuse.mismatched(read, .read, .ok)) {
                try history.complete(read, .ok, at: 20)
            }
            #expect(throws: RegisterHistory.Misuse.returnsBeforeInvocation(read)) {
                try history.complete(read, .read(nil), at: 5)
            }
            #expect(throws: RegisterHistory.Misuse.unknownOperation(9)) { try history.complete(9, .info, at: 20) }
            #expect(throws: Never.self) { try history.complete(read, .read(nil), at: 20) }
            #expect(throws: RegisterHistory.Misuse.alreadyCompleted(read)) {
                try history.complete(read, .read(nil), at: 30)
            }
            let start = ContinuousClock.now
            #expect(RegisterHistory.nanoseconds(from: start, to: start + .milliseconds(3)) == 3_000_000)
            #expect(RegisterHistory.nanoseconds(from: start + .seconds(1), to: start) == 0)
        }

        @Test("a search over its step budget gives up with unknown")
        func budget() throws {
            // Ten concurrent writes and a read that needs the first one to be linearized last: far more than ten steps.
            var planned = (0..<10).map {
                Planned(call: .write($0), invoked: 0, completed: 100, completion: .ok)
            }
            planned.append(Planned(call: .read, invoked: 200, completed: 210, completion: .read(0)))
            let history = try Self.history(planned)
            #expect(LinearizabilityChecker(budget: 10).check(history) == .unknown(steps: 10))
            #expect(LinearizabilityChecker().check(history) == .linearizable)
        }

        @Test("50 simulated register histories are linearizable; each with one read of a never-written value is not")
        func simulated() throws {
            var corrupted = 0
            for seed in 1...50 {
                var random = SplitMix64(seed: UInt64(seed))
                let planned = Self.simulate(&random, keys: 1 + seed % 2, processes: 5, operations: 20, values: 5)
                let result = try Self.check(planned)
                #expect(result == .linearizable, "seed \(seed): \(result)")
                let reads = planned.indices.filter {
                    if case .read(.some) = planned[$0].completion { return true }
                    return false
                }
                guard !reads.isEmpty else { continue }
                var wrong = planned
                wrong[reads[Int(random.next() % UInt64(reads.count))]].completion = .read(1_000)
                #expect(Self.isViolation(try Self.check(wrong)), "seed \(seed)")
                corrupted += 1
            }
            #expect(corrupted >= 45)
        }

        @Test("on small random histories the checker agrees with an exhaustive search of every order")
        func agreesWithExhaustiveSearch() throws {
            var verdicts = (linearizable: 0, not: 0)
            for seed in 1...300 {
                var random = SplitMix64(seed: UInt64(seed) &* 7919)
                var planned = Self.simulate(&random, keys: 1, processes: 3, operations: 3, values: 3)
                // Change some reads to any value (or unwritten): some stay linearizable, others do not.
                for index in planned.indices where random.next() % 3 == 0 {
                    if case .read = planned[index].completion {
                        let value = Int(random.next() % 4)
                        planned[index].completion = .read(value == 0 ? nil : value)
                    }
                }
                let history = try Self.history(planned)
                let expected = Self.exhaustivelyLinearizable(history.operations)
                let result = LinearizabilityChecker().check(history)
                #expect((result == .linearizable) == expected, "seed \(seed): \(history.operations)")
                #expect(result != .unknown(steps: LinearizabilityChecker().budget))
                if expected { verdicts.linearizable += 1 } else { verdicts.not += 1 }
            }
            #expect(verdicts.linearizable > 50)
            #expect(verdicts.not > 50)
        }
    }
}

extension FaultSuite.LinearizabilityCheckerTests {
    /// Operations of `processes` clients on `keys` registers, each client one call at a time, each call taking
    /// effect on a real register at a random instant inside its interval. Some writes and compare-and-sets end
    /// indeterminate (applied or not) or failed (not applied); some reads end indeterminate.
    static func simulate(
        _ random: inout SplitMix64, keys: Int, processes: Int, operations: Int, values: Int
    ) -> [Planned] {
        var planned: [Planned] = []
        // (effect instant, index into planned) for every operation that took effect.
        var effects: [(UInt64, Int)] = []
        for _ in 0..<processes {
            var time = random.next() % 50
            for _ in 0..<operations {
                let invoked = time + random.next() % 20
                let length = 1 + random.next() % 60
                let value = 1 + Int(random.next() % UInt64(values))
                let call: RegisterOp.Call
                switch random.next() % 10 {
                case 0..<4: call = .read
                case 4..<7: call = .write(value)
                default: call = .compareAndSet(expected: 1 + Int(random.next() % UInt64(values)), new: value)
                }
                let ending = random.next() % 20
                let completion: RegisterOp.Completion = ending == 0 ? .fail : (ending < 3 ? .info : .ok)
                planned.append(
                    Planned(
                        call: call, key: Int(random.next() % UInt64(keys)), invoked: invoked,
                        completed: invoked + length, completion: completion))
                if completion == .ok || (completion == .info && random.next() % 2 == 0) {
                    effects.append((invoked + random.next() % (length + 1), planned.count - 1))
                }
                time = invoked + length
            }
        }
        var registers: [Int: Int] = [:]
        for (_, index) in effects.sorted(by: { $0 < $1 }) {
            let key = planned[index].key
            let current = registers[key]
            let ended = planned[index].completion
            switch planned[index].call {
            case .read:
                planned[index].completion = ended == .ok ? .read(current) : ended
            case .write(let value):
                registers[key] = value
            case .compareAndSet(let expected, let new):
                if current == expected {
                    registers[key] = new
                } else if ended == .ok {
                    planned[index].completion = .casFailed
                }
            }
        }
        return planned
    }

    /// Whether some order of the operations (one key) respects real time and a register, trying every order:
    /// an operation may go next if no other unplaced one returned before it was invoked; an indeterminate one may
    /// also be left out.
    static func exhaustivelyLinearizable(_ operations: [RegisterOp]) -> Bool {
        let kept = operations.filter { operation in
            switch (operation.call, operation.completion) {
            case (_, .fail), (.read, .info): return false
            default: return true
            }
        }
        func returned(_ operation: RegisterOp) -> UInt64 {
            operation.completion == .info ? UInt64.max : operation.completed ?? UInt64.max
        }
        func search(_ remaining: [RegisterOp], _ state: Int?) -> Bool {
            if remaining.allSatisfy({ $0.completion == .info }) { return true }
            for (index, operation) in remaining.enumerated() {
                let others = remaining.enumerated().filter { $0.offset != index }.map(\.element)
                if others.contains(where: { returned($0) < operation.invoked }) { continue }
                if operation.completion == .info, search(others, state) { return true }
                let after: Int??
                switch (operation.call, operation.completion) {
                case (.read, .read(let value)): after = value == state ? .some(state) : nil
                case (.write(let value), _): after = .some(value)
                case (.compareAndSet(let expected, _), .casFailed): after = state != expected ? .some(state) : nil
                case (.compareAndSet(let expected, let new), _): after = state == expected ? .some(new) : nil
                default: after = nil
                }
                if let after, search(others, after) { return true }
            }
            return false
        }
        return search(kept, nil)
    }
}
