/// One operation on a register, as recorded by a ``RegisterHistory``: what was called, when, and how it ended.
struct RegisterOp: Sendable, Equatable, CustomStringConvertible {
    /// What the client asked for.
    enum Call: Sendable, Equatable {
        case read
        case write(Int)
        case compareAndSet(expected: Int, new: Int)
    }

    /// How the call ended (Jepsen's ok / fail / info, with what an ok call returned).
    enum Completion: Sendable, Equatable {
        /// A write took effect, or a compare-and-set found `expected` and stored `new`.
        case ok
        /// A compare-and-set ran and found a value other than `expected` (the register is unchanged).
        case casFailed
        /// A read returned this value (`nil`: the register was unwritten).
        case read(Int?)
        /// The call certainly did not take effect (the checker ignores it).
        case fail
        /// The outcome is unknown: it may or may not have taken effect, at any instant after the invocation. An
        /// indeterminate read tells nothing and the checker ignores it.
        case info
    }

    /// Unique in its history, in invocation order.
    var id: Int
    /// The register (one of several independent ones) the operation is on.
    var key: Int
    var call: Call
    /// Nanoseconds on any clock that is the same for every operation of the history.
    var invoked: UInt64
    /// When the call returned; `nil` while pending. An indeterminate operation's return is taken to be +∞.
    var completed: UInt64?
    /// `nil` while pending, which the checker treats as ``Completion/info``.
    var completion: Completion?

    var description: String {
        let call: String
        switch self.call {
        case .read: call = "read"
        case .write(let value): call = "write(\(value))"
        case .compareAndSet(let expected, let new): call = "cas(\(expected)→\(new))"
        }
        let end: String
        switch completion {
        case .ok: end = "ok"
        case .casFailed: end = "cas failed"
        case .read(let value): end = value.map { "read \($0)" } ?? "read nil"
        case .fail: end = "fail"
        case .info, nil: end = "info"
        }
        let returned = completed.map { String($0) } ?? "∞"
        return "#\(id) key \(key) \(call) → \(end) [\(invoked), \(returned)]"
    }
}

/// A history of register operations, built as calls are invoked and complete (from one task; wrap it in a lock to
/// share it).
struct RegisterHistory: Sendable {
    /// Why ``complete(_:_:at:)`` refused a completion.
    enum Misuse: Error, Equatable {
        /// No operation has this id.
        case unknownOperation(Int)
        /// The operation already completed.
        case alreadyCompleted(Int)
        /// The completion does not fit the call (a read needs `.read`, only a compare-and-set can be `.casFailed`).
        case mismatched(Int, RegisterOp.Call, RegisterOp.Completion)
        /// The operation would return before it was invoked.
        case returnsBeforeInvocation(Int)
    }

    /// Every operation so far, indexed by id.
    private(set) var operations: [RegisterOp] = []

    init() {}

    /// Nanoseconds from `origin` to `instant` (0 if `instant` is earlier), to record ``ContinuousClock`` times.
    static func nanoseconds(from origin: ContinuousClock.Instant, to instant: ContinuousClock.Instant) -> UInt64 {
        let elapsed = (instant - origin).components
        guard elapsed.seconds >= 0, elapsed.attoseconds >= 0 else { return 0 }
        return UInt64(elapsed.seconds) * 1_000_000_000 + UInt64(elapsed.attoseconds / 1_000_000_000)
    }

    /// Records an invocation and returns the operation's id.
    @discardableResult
    mutating func invoke(_ call: RegisterOp.Call, key: Int = 0, at time: UInt64) -> Int {
        let id = operations.count
        operations.append(RegisterOp(id: id, key: key, call: call, invoked: time, completed: nil, completion: nil))
        return id
    }

    /// Records how operation `id` ended.
    mutating func complete(_ id: Int, _ completion: RegisterOp.Completion, at time: UInt64) throws(Misuse) {
        guard operations.indices.contains(id) else { throw .unknownOperation(id) }
        let operation = operations[id]
        guard operation.completion == nil else { throw .alreadyCompleted(id) }
        guard time >= operation.invoked else { throw .returnsBeforeInvocation(id) }
        switch (operation.call, completion) {
        case (_, .fail), (_, .info), (.read, .read), (.write, .ok), (.compareAndSet, .ok), (.compareAndSet, .casFailed):
            break
        default:
            throw .mismatched(id, operation.call, completion)
        }
        operations[id].completed = time
        operations[id].completion = completion
    }

    /// Records a whole operation: invoked at `invoked`, ended with `completion` at `completed`.
    @discardableResult
    mutating func record(
        _ call: RegisterOp.Call, key: Int = 0, invoked: UInt64, completed: UInt64, _ completion: RegisterOp.Completion
    ) throws(Misuse) -> Int {
        let id = invoke(call, key: key, at: invoked)
        try complete(id, completion, at: completed)
        return id
    }
}

/// What ``LinearizabilityChecker/check(_:)`` decided.
enum LinearizabilityResult: Sendable, Equatable {
    /// Every key's operations have an order consistent with real time and with a register.
    case linearizable
    /// Some key's operations have no such order.
    case notLinearizable(LinearizabilityViolation)
    /// The search gave up after `steps` steps on some key (the step budget), without deciding; no key was found not
    /// linearizable before that.
    case unknown(steps: Int)
}

/// Why a key's history is not linearizable, as far as the deepest point the search reached.
struct LinearizabilityViolation: Sendable, Equatable, CustomStringConvertible {
    var key: Int
    /// Ids of the longest sequence of operations the search could linearize, in order.
    var longestPrefix: [Int]
    /// The register's value after that sequence.
    var valueAfterPrefix: Int?
    /// The operation that had returned, and so had to be placed next (itself or after other pending ones), but
    /// could not be.
    var blocked: RegisterOp

    var description: String {
        let value = valueAfterPrefix.map { String($0) } ?? "nil"
        return "key \(key): after linearizing \(longestPrefix) (register = \(value)), \(blocked) could not be placed"
    }
}

/// A linearizability checker for registers: Wing & Gong's search with Lowe's memoization of (linearized set, state)
/// pairs, as Porcupine and Knossos implement it. Each key is checked on its own.
///
/// Operations become call and return entries sorted by time (a call before a return at the same instant, so ops
/// that touch are concurrent), in a doubly linked list. The search walks the list: at a call whose operation the
/// register model accepts in the current state, it linearizes that operation (lifts both its entries out of the list,
/// pushes it on a stack) and restarts from the head, unless the resulting (set of linearized ops, state) pair was
/// seen before. Reaching a return means that operation was not linearized in time: pop the last linearized
/// operation, put its entries back and try the next entry after its call. The history is linearizable when every
/// determinate operation is linearized; not linearizable when a return is reached with an empty stack.
///
/// An indeterminate (info, or still pending) write or compare-and-set has its return at +∞: it may be linearized at
/// any point after its call, or never (it did not take effect). Indeterminate reads and failed operations are
/// dropped.
struct LinearizabilityChecker: Sendable {
    /// The register's value before any operation (`nil`: unwritten).
    var initialValue: Int?
    /// Steps (list entries visited) the search may take on one key before giving up with
    /// ``LinearizabilityResult/unknown(steps:)``.
    var budget: Int

    init(initialValue: Int? = nil, budget: Int = 1_000_000) {
        self.initialValue = initialValue
        self.budget = budget
    }

    /// Checks every key of `history`, in key order. A key that is not linearizable decides the result; otherwise
    /// a key where the budget ran out makes it unknown.
    func check(_ history: RegisterHistory) -> LinearizabilityResult {
        check(history.operations)
    }

    /// Checks `operations` (from one or more histories; ids must be unique), key by key.
    func check(_ operations: [RegisterOp]) -> LinearizabilityResult {
        let byKey = Dictionary(grouping: operations, by: \.key)
        var gaveUp: Int?
        for key in byKey.keys.sorted() {
            var search = RegisterSearch(key: key, operations: byKey[key] ?? [], initialValue: initialValue)
            switch search.run(budget: budget) {
            case .linearizable: continue
            case .notLinearizable(let violation): return .notLinearizable(violation)
            case .unknown(let steps): gaveUp = max(gaveUp ?? 0, steps)
            }
        }
        return gaveUp.map { .unknown(steps: $0) } ?? .linearizable
    }
}

/// The search on one key's operations (see ``LinearizabilityChecker``).
private struct RegisterSearch {
    /// A register step: the state after `operation`, or `nil` if the register cannot produce its result.
    private static func step(_ state: Int?, _ operation: RegisterOp) -> Int?? {
        switch (operation.call, operation.completion) {
        case (.read, .read(let value)): return value == state ? .some(state) : nil
        case (.write(let value), _): return .some(value)
        case (.compareAndSet(let expected, _), .casFailed): return state != expected ? .some(state) : nil
        case (.compareAndSet(let expected, let new), _): return state == expected ? .some(new) : nil
        default: return nil
        }
    }

    private struct Seen: Hashable {
        var linearized: [UInt64]
        var state: Int?
    }

    let key: Int
    /// The operations kept (not failed, not indeterminate reads).
    private let operations: [RegisterOp]
    private let initialValue: Int?
    /// Entry 0 is the head; entry `2i + 1` is operation i's call and `2i + 2` its return. -1 ends the list.
    private var next: [Int]
    private var previous: [Int]
    private var determinate = 0

    init(key: Int, operations: [RegisterOp], initialValue: Int?) {
        self.key = key
        self.initialValue = initialValue
        let kept = operations.filter { operation in
            switch (operation.call, operation.completion) {
            case (_, .fail), (.read, .info), (.read, nil): return false
            default: return true
            }
        }
        self.operations = kept
        // (time, is a return, entry): calls sort before returns at the same time.
        var events: [(time: UInt64, isReturn: Bool, entry: Int)] = []
        for (index, operation) in kept.enumerated() {
            events.append((operation.invoked, false, 2 * index + 1))
            let indeterminate = operation.completion == .info || operation.completion == nil
            if !indeterminate { determinate += 1 }
            events.append((indeterminate ? UInt64.max : operation.completed ?? UInt64.max, true, 2 * index + 2))
        }
        events.sort { ($0.time, $0.isReturn ? 1 : 0, $0.entry) < ($1.time, $1.isReturn ? 1 : 0, $1.entry) }
        next = Array(repeating: -1, count: 2 * kept.count + 1)
        previous = Array(repeating: -1, count: 2 * kept.count + 1)
        var last = 0
        for event in events {
            next[last] = event.entry
            previous[event.entry] = last
            last = event.entry
        }
    }

    private mutating func unlink(_ entry: Int) {
        next[previous[entry]] = next[entry]
        if next[entry] >= 0 { previous[next[entry]] = previous[entry] }
    }

    private mutating func relink(_ entry: Int) {
        next[previous[entry]] = entry
        if next[entry] >= 0 { previous[next[entry]] = entry }
    }

    mutating func run(budget: Int) -> LinearizabilityResult {
        var linearized = [UInt64](repeating: 0, count: (operations.count + 63) / 64)
        var seen: Set<Seen> = []
        var stack: [(operation: Int, state: Int?)] = []
        var state = initialValue
        var remaining = determinate
        var longest: (prefix: [Int], state: Int?, blocked: Int)?
        var entry = next[0]
        var steps = 0
        while remaining > 0 {
            steps += 1
            if steps > budget { return .unknown(steps: budget) }
            guard entry > 0 else { break }  // unreachable: a determinate return always precedes the end
            let index = (entry - 1) / 2
            if entry % 2 == 1 {
                let operation = operations[index]
                if let newState = Self.step(state, operation) {
                    var marked = linearized
                    marked[index / 64] |= 1 << UInt64(index % 64)
                    if seen.insert(Seen(linearized: marked, state: newState)).inserted {
                        stack.append((index, state))
                        state = newState
                        linearized = marked
                        if operation.completion != .info && operation.completion != nil { remaining -= 1 }
                        unlink(entry)
                        unlink(entry + 1)
                        entry = next[0]
                        continue
                    }
                }
                entry = next[entry]
            } else {
                if stack.count >= longest?.prefix.count ?? 0 {
                    longest = (stack.map { operations[$0.operation].id }, state, index)
                }
                guard let (undone, before) = stack.popLast() else { break }
                let operation = operations[undone]
                if operation.completion != .info && operation.completion != nil { remaining += 1 }
                linearized[undone / 64] &= ~(1 << UInt64(undone % 64))
                state = before
                relink(2 * undone + 2)
                relink(2 * undone + 1)
                entry = next[2 * undone + 1]
            }
        }
        if remaining == 0 { return .linearizable }
        let (prefix, value, blocked) = longest ?? ([], initialValue, 0)
        return .notLinearizable(
            LinearizabilityViolation(
                key: key, longestPrefix: prefix, valueAfterPrefix: value, blocked: operations[blocked]))
    }
}
