import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The write end of the pipe the signal handler writes to (set once, before the handler is installed).
nonisolated(unsafe) private var signalPipeWriteDescriptor: Int32 = -1

/// The signal handler: writes the signal number to the pipe and nothing else (async-signal-safe).
private func shellSignalHandler(_ signal: Int32) {
    let savedErrno = errno
    var byte = UInt8(truncatingIfNeeded: signal)
    _ = write(signalPipeWriteDescriptor, &byte, 1)
    errno = savedErrno
}

/// Process-wide signal handling for the shell: SIGINT becomes ``ShellInterrupts/interrupt()``, SIGTERM and
/// SIGHUP ``ShellInterrupts/terminate()``, SIGWINCH ``ShellInterrupts/windowChanged()``.
///
/// The handler only writes the signal number to a pipe; a dedicated thread reads the pipe and calls
/// `ShellInterrupts` in a normal context (self-pipe trick). Install it once, before reading input.
public enum ShellSignals {
    /// Installs the handlers and starts the thread that forwards signals to `interrupts`. Returns false if
    /// the pipe could not be created (signals then keep their default actions).
    @discardableResult
    public static func install(forwardingTo interrupts: ShellInterrupts) -> Bool {
        var descriptors: [Int32] = [-1, -1]
        guard pipe(&descriptors) == 0 else { return false }
        let readDescriptor = descriptors[0]
        for descriptor in descriptors { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
        _ = fcntl(descriptors[1], F_SETFL, fcntl(descriptors[1], F_GETFL) | O_NONBLOCK)
        signalPipeWriteDescriptor = descriptors[1]

        let thread = Thread {
            var byte: UInt8 = 0
            while true {
                let count = read(readDescriptor, &byte, 1)
                if count < 0 && errno == EINTR { continue }
                guard count == 1 else { return }
                switch Int32(byte) {
                case SIGINT: interrupts.interrupt()
                case SIGWINCH: interrupts.windowChanged()
                case SIGTERM, SIGHUP: interrupts.terminate()
                default: break
                }
            }
        }
        thread.name = "dqlite-shell signals"
        thread.start()

        for signal in [SIGINT, SIGTERM, SIGHUP, SIGWINCH] {
            var action = sigaction()
            #if canImport(Darwin)
                action.__sigaction_u.__sa_handler = shellSignalHandler
            #else
                action.__sigaction_handler.sa_handler = shellSignalHandler
            #endif
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            _ = sigaction(signal, &action, nil)
        }
        return true
    }
}

/// Runs blocking work (terminal and file reads, file writes) on its own thread instead of Swift's
/// cooperative pool.
enum BlockingThread {
    /// Runs `body` on a new thread and returns its result.
    static func run<Value: Sendable>(_ body: @escaping @Sendable () -> Value) async -> Value {
        await withCheckedContinuation { continuation in
            let thread = Thread { continuation.resume(returning: body()) }
            thread.start()
        }
    }
}
