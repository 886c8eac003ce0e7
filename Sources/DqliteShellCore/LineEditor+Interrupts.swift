// libedit's readline globals (rl_catch_signals, rl_getc_function) are written once, before libedit is
// initialised; @preconcurrency lets Swift 6 touch those C globals.
@preconcurrency import CEdit

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The wake pipe `interruptibleGetc` polls next to the terminal while `read(prompt:wakeDescriptor:)` runs.
nonisolated(unsafe) private var editorWakeDescriptor: Int32 = -1
/// Why `interruptibleGetc` ended the line (an interrupt or a termination request), if it did.
nonisolated(unsafe) private var editorWake: ShellInterrupts.Wake?

/// libedit's character source: the terminal, unless the wake pipe says Ctrl-C was pressed (the line then
/// ends as at end of file and `editorWake` says why) or the window was resized.
private func interruptibleGetc(_ stream: UnsafeMutablePointer<FILE>?) -> Int32 {
    let input = stream.map { fileno($0) } ?? STDIN_FILENO
    while true {
        var descriptors = [
            pollfd(fd: input, events: Int16(POLLIN), revents: 0),
            pollfd(fd: editorWakeDescriptor, events: Int16(POLLIN), revents: 0),
        ]
        let count: nfds_t = editorWakeDescriptor >= 0 ? 2 : 1
        if poll(&descriptors, count, -1) < 0 {
            if errno == EINTR { continue }
            return -1
        }
        if count == 2, descriptors[1].revents != 0 {
            var byte: UInt8 = 0
            while read(editorWakeDescriptor, &byte, 1) == 1 {
                switch ShellInterrupts.Wake(rawValue: byte) {
                case .resize?: rl_resize_terminal()
                case .interrupt?: editorWake = editorWake ?? .interrupt
                case .terminate?: editorWake = .terminate
                case nil: break
                }
            }
            if editorWake != nil { return -1 }
            continue
        }
        if descriptors[0].revents != 0 {
            var byte: UInt8 = 0
            let got = read(input, &byte, 1)
            if got == 1 { return Int32(byte) }
            if got < 0 && (errno == EINTR || errno == EAGAIN) { continue }
            return -1
        }
    }
}

extension LineEditor {
    /// One result of ``read(prompt:wakeDescriptor:)``.
    public enum Input: Hashable, Sendable {
        /// A line, without its terminator.
        case line(String)
        /// Ctrl-C: the line being edited was discarded.
        case interrupted
        /// End of input (Ctrl-D on an empty line, end of file, or a termination request).
        case end
    }

    /// Makes libedit read through `interruptibleGetc` and leave signals alone (SIGINT then reaches the
    /// shell's handler, which wakes the reader through the wake pipe). Must run before libedit is
    /// initialised.
    static func prepareInterruptibleInput() {
        rl_catch_signals = 0
        rl_getc_function = interruptibleGetc
    }

    /// Reads one line like ``readLine(prompt:)``, but returns ``Input/interrupted`` as soon as a byte
    /// arrives on `wakeDescriptor` (see ``ShellInterrupts``), discarding the line being edited.
    /// `terminalResized` says the window changed size since the last read.
    public func read(prompt: String, wakeDescriptor: Int32, terminalResized: Bool = false) -> Input {
        guard isInteractive else {
            return Swift.readLine(strippingNewline: true).map(Input.line) ?? .end
        }
        if terminalResized { rl_resize_terminal() }
        editorWakeDescriptor = wakeDescriptor
        editorWake = nil
        defer { editorWakeDescriptor = -1 }
        if let line = readline(prompt) {
            defer { free(line) }
            return .line(String(cString: line))
        }
        return editorWake == .interrupt ? .interrupted : .end
    }
}
