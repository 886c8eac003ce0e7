import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Ctrl-C (and termination requests) for the shell, independent of where they come from: `ShellSignals`
/// forwards SIGINT here, tests call ``interrupt()`` directly.
///
/// - While an operation runs under ``run(_:)`` (a statement, a cluster command), an interrupt cancels the
///   task that runs it. For a query that is the task iterating rows, which makes the client send INTERRUPT
///   and drain the stream. Two more interrupts while it is still stopping call the `forceExit` handler.
/// - Otherwise the interrupt wakes whoever reads input: line readers poll ``wakeDescriptor`` next to
///   their input, so Ctrl-C at the prompt discards the pending input and Ctrl-C while a script waits for
///   piped input stops it.
public final class ShellInterrupts: Sendable {
    /// What a byte on the wake pipe means.
    public enum Wake: UInt8, Sendable {
        /// Ctrl-C while no operation ran.
        case interrupt = 0x49
        /// The terminal changed size.
        case resize = 0x57
        /// The process was asked to terminate (SIGTERM, SIGHUP).
        case terminate = 0x54
    }

    /// The result of ``run(_:)``.
    public struct Outcome<Value: Sendable>: Sendable {
        /// What the operation returned or threw (after an interrupt, usually a cancellation error).
        public var result: Result<Value, any Error>
        /// Whether an interrupt cancelled it.
        public var interrupted: Bool
    }

    private enum RunEvent<Value: Sendable>: Sendable {
        case finished(Result<Value, any Error>)
        case interrupted
        case waiterCancelled
    }

    private struct Running {
        let id: UInt64
        var waiter: CheckedContinuation<Void, Never>?
        var waiterCancelled = false
        var interrupts = 0
    }

    private struct State {
        var running: Running?
        var nextID: UInt64 = 0
        var terminating = false
    }

    private let state = Mutex(State())
    /// The read end of the wake pipe (non-blocking), or -1 if no pipe could be made.
    public let wakeDescriptor: Int32
    private let wakeWriteDescriptor: Int32
    private let forceExit: @Sendable () -> Void

    /// Interrupts this many times during one operation call `forceExit` (the first one cancels it).
    public static let forceExitCount = 3

    /// Creates the interrupt state and its wake pipe.
    ///
    /// - Parameter forceExit: called when Ctrl-C was pressed ``forceExitCount`` times during one operation
    ///   that does not stop (the executable exits the process).
    public init(forceExit: @escaping @Sendable () -> Void = {}) {
        var descriptors: [Int32] = [-1, -1]
        if pipe(&descriptors) == 0 {
            for descriptor in descriptors {
                _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
                _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
            }
        } else {
            descriptors = [-1, -1]
        }
        wakeDescriptor = descriptors[0]
        wakeWriteDescriptor = descriptors[1]
        self.forceExit = forceExit
    }

    deinit {
        if wakeDescriptor >= 0 { close(wakeDescriptor) }
        if wakeWriteDescriptor >= 0 { close(wakeWriteDescriptor) }
    }

    /// True once ``terminate()`` was called.
    public var isTerminating: Bool { state.withLock { $0.terminating } }

    /// Ctrl-C: cancels the running operation, or wakes the input reader.
    public func interrupt() {
        enum Action {
            case resume(CheckedContinuation<Void, Never>?)
            case wakeReader
            case forceExit
            case nothing
        }
        let action: Action = state.withLock { state in
            guard var running = state.running else { return .wakeReader }
            running.interrupts += 1
            let count = running.interrupts
            let waiter = running.waiter
            running.waiter = nil
            state.running = running
            if count == 1 { return .resume(waiter) }
            return count >= Self.forceExitCount ? .forceExit : .nothing
        }
        switch action {
        case .resume(let waiter): waiter?.resume()
        case .wakeReader: wake(.interrupt)
        case .forceExit: forceExit()
        case .nothing: break
        }
    }

    /// A termination request: interrupts the running operation and ends the input. A second request
    /// calls the `forceExit` handler.
    public func terminate() {
        let again = state.withLock { state in
            defer { state.terminating = true }
            return state.terminating
        }
        if again {
            forceExit()
            return
        }
        let waiter: CheckedContinuation<Void, Never>? = state.withLock { state in
            guard var running = state.running else { return nil }
            running.interrupts += 1
            let waiter = running.waiter
            running.waiter = nil
            state.running = running
            return waiter
        }
        waiter?.resume()
        wake(.terminate)
    }

    /// The terminal was resized: tells the line editor, if it is reading.
    public func windowChanged() {
        wake(.resize)
    }

    /// Runs `operation` in a child task that an interrupt cancels; waits until it has finished (also when
    /// interrupted, so nothing it does outlives the call). The outcome is `interrupted` when Ctrl-C was
    /// pressed while it ran, even if it completed anyway.
    public func run<Value: Sendable>(
        _ operation: @escaping @Sendable () async throws -> Value
    ) async -> Outcome<Value> {
        let id: UInt64? = state.withLock { state in
            guard !state.terminating else { return nil }
            state.nextID += 1
            state.running = Running(id: state.nextID)
            return state.nextID
        }
        guard let id else {
            return Outcome(result: .failure(CancellationError()), interrupted: true)
        }
        let outcome = await withTaskGroup(of: RunEvent<Value>.self) { group in
            group.addTask {
                do {
                    return .finished(.success(try await operation()))
                } catch {
                    return .finished(.failure(error))
                }
            }
            group.addTask {
                await self.waitForInterrupt(id)
                return Task.isCancelled ? .waiterCancelled : .interrupted
            }
            var interrupted = false
            var result: Result<Value, any Error> = .failure(CancellationError())
            while let event = await group.next() {
                switch event {
                case .finished(let value):
                    result = value
                    group.cancelAll()
                case .interrupted:
                    interrupted = true
                    group.cancelAll()
                case .waiterCancelled:
                    break
                }
            }
            return Outcome(result: result, interrupted: interrupted)
        }
        // Ctrl-C counts even when the operation finished before its cancellation took effect: the user asked
        // to stop (a script stops too).
        let pressed = state.withLock { state -> Bool in
            defer { if state.running?.id == id { state.running = nil } }
            return (state.running?.interrupts ?? 0) > 0
        }
        return Outcome(result: outcome.result, interrupted: outcome.interrupted || pressed)
    }

    /// Discards pending wake bytes (an interrupt that arrived when nobody was reading) and reports whether
    /// a termination request is among them.
    @discardableResult
    public func drainWake() -> [Wake] {
        guard wakeDescriptor >= 0 else { return [] }
        var wakes: [Wake] = []
        var buffer = [UInt8](repeating: 0, count: 64)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(wakeDescriptor, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            wakes += buffer.prefix(count).compactMap(Wake.init(rawValue:))
        }
        return wakes
    }

    private func wake(_ wake: Wake) {
        guard wakeWriteDescriptor >= 0 else { return }
        var byte = wake.rawValue
        _ = write(wakeWriteDescriptor, &byte, 1)
    }

    private func waitForInterrupt(_ id: UInt64) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    guard var running = state.running, running.id == id, running.interrupts == 0,
                        !running.waiterCancelled
                    else { return true }
                    running.waiter = continuation
                    state.running = running
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                guard var running = state.running, running.id == id else { return nil }
                running.waiterCancelled = true
                let waiter = running.waiter
                running.waiter = nil
                state.running = running
                return waiter
            }
            waiter?.resume()
        }
    }
}
