#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// What a line source returns.
public enum ShellLine: Hashable, Sendable {
    /// One line, without its terminator.
    case line(String)
    /// Ctrl-C while waiting for input.
    case interrupted
    /// No more input.
    case end
}

/// Where the shell's input comes from: the terminal, piped standard input, a script file, `-c` text.
public protocol ShellLineSource: AnyObject {
    /// A name for error messages: a file path, `<stdin>`, or nil when line numbers mean nothing (`-c`).
    var name: String? { get }
    /// True for the terminal: prompts are shown, errors do not stop the shell, Ctrl-C only cancels.
    var isInteractive: Bool { get }
    /// The number of the last line returned (1-based).
    var lineNumber: Int { get }
    /// The next line, showing `prompt` when interactive.
    func nextLine(prompt: String) async -> ShellLine
    /// Records a line the user entered in the history (interactive sources).
    func addHistory(_ line: String)
}

extension ShellLineSource {
    public func addHistory(_ line: String) {}
}

/// Lines of a string (`-c` text, tests).
public final class StringLineSource: ShellLineSource {
    public let name: String?
    public let isInteractive = false
    public private(set) var lineNumber = 0
    private var lines: [String]
    private let interrupts: ShellInterrupts?

    /// Creates a source of the lines of `text` (LF or CRLF). With `interrupts`, a Ctrl-C that arrived while
    /// no statement ran (while the node started, between statements) ends the script as
    /// ``ShellLine/interrupted`` instead of being lost.
    public init(_ text: String, name: String? = nil, interrupts: ShellInterrupts? = nil) {
        self.name = name
        self.interrupts = interrupts
        // Split on scalars: "\r\n" is one Character, so a Character split would miss it.
        var lines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            String(line.last == "\r" ? line.dropLast() : line)
        }
        if lines.last?.isEmpty == true { lines.removeLast() }
        self.lines = lines.reversed()
    }

    public func nextLine(prompt: String) async -> ShellLine {
        if let interrupts {
            let wakes = interrupts.drainWake()
            if wakes.contains(.terminate) || interrupts.isTerminating { return .end }
            if wakes.contains(.interrupt) { return .interrupted }
        }
        guard let line = lines.popLast() else { return .end }
        lineNumber += 1
        return .line(line)
    }
}

/// Lines read from a file descriptor (piped standard input, a script file), in large chunks on a separate
/// thread; a Ctrl-C while it waits for input (a byte on the interrupts' wake pipe) returns
/// ``ShellLine/interrupted``.
public final class FileDescriptorLineSource: ShellLineSource {
    public let name: String?
    public let isInteractive = false
    public private(set) var lineNumber = 0
    private let descriptor: Int32
    private let closeWhenDone: Bool
    private let wakeDescriptor: Int32
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEnd = false
    private var closed = false

    /// The size of one read.
    static let chunkSize = 256 * 1024

    /// Reads `descriptor`; closes it at end of input when `closeWhenDone`.
    public init(descriptor: Int32, name: String?, closeWhenDone: Bool, interrupts: ShellInterrupts?) {
        self.descriptor = descriptor
        self.name = name
        self.closeWhenDone = closeWhenDone
        self.wakeDescriptor = interrupts?.wakeDescriptor ?? -1
    }

    /// Opens a script file.
    public static func open(path: String, interrupts: ShellInterrupts?) throws(ShellFailure) -> FileDescriptorLineSource
    {
        let descriptor = openFile(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw ShellFailure(message: "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        return FileDescriptorLineSource(descriptor: descriptor, name: path, closeWhenDone: true, interrupts: interrupts)
    }

    deinit { closeIfNeeded() }

    public func nextLine(prompt: String) async -> ShellLine {
        while true {
            if let newline = buffer[start...].firstIndex(of: 0x0A) {
                var end = newline
                if end > start, buffer[end - 1] == 0x0D { end -= 1 }
                let line = String(decoding: buffer[start..<end], as: UTF8.self)
                start = newline + 1
                lineNumber += 1
                return .line(line)
            }
            if atEnd {
                guard start < buffer.count else { return .end }
                let line = String(decoding: buffer[start...], as: UTF8.self)
                start = buffer.count
                lineNumber += 1
                return .line(line)
            }
            buffer.removeSubrange(..<start)
            start = 0
            switch await readChunk() {
            case .data(let bytes): buffer += bytes
            case .end:
                atEnd = true
                closeIfNeeded()
            case .interrupted: return .interrupted
            case .terminated: return .end
            }
        }
    }

    private enum Chunk: Sendable {
        case data([UInt8])
        case end
        case interrupted
        case terminated
    }

    private func readChunk() async -> Chunk {
        let descriptor = self.descriptor
        let wake = wakeDescriptor
        return await BlockingThread.run {
            while true {
                var descriptors = [
                    pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0),
                    pollfd(fd: wake, events: Int16(POLLIN), revents: 0),
                ]
                if poll(&descriptors, wake >= 0 ? 2 : 1, -1) < 0 {
                    if errno == EINTR { continue }
                    return .end
                }
                if wake >= 0, descriptors[1].revents != 0 {
                    var byte: UInt8 = 0
                    var wakes: [ShellInterrupts.Wake] = []
                    while read(wake, &byte, 1) == 1 {
                        if let kind = ShellInterrupts.Wake(rawValue: byte) { wakes.append(kind) }
                    }
                    if wakes.contains(.terminate) { return .terminated }
                    if wakes.contains(.interrupt) { return .interrupted }
                    continue
                }
                var bytes = [UInt8](repeating: 0, count: FileDescriptorLineSource.chunkSize)
                let count = bytes.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count < 0 && (errno == EINTR || errno == EAGAIN) { continue }
                guard count > 0 else { return .end }
                bytes.removeSubrange(count...)
                return .data(bytes)
            }
        }
    }

    private func closeIfNeeded() {
        guard closeWhenDone, !closed else { return }
        closed = true
        close(descriptor)
    }
}

/// The terminal, through libedit: line editing, history, Ctrl-C discards the line being edited.
public final class TerminalLineSource: ShellLineSource {
    public let name: String? = nil
    public let isInteractive = true
    public private(set) var lineNumber = 0
    private let editor: LineEditor
    private let interrupts: ShellInterrupts
    private var historyProblemReported = false
    private let report: (String) -> Void

    /// Reads from `editor`; Ctrl-C arrives through `interrupts`. `report` prints a warning (a history file
    /// that cannot be written) once.
    public init(editor: LineEditor, interrupts: ShellInterrupts, report: @escaping (String) -> Void) {
        self.editor = editor
        self.interrupts = interrupts
        self.report = report
    }

    public func nextLine(prompt: String) async -> ShellLine {
        // Interrupts that arrived while nothing was reading are stale: drop them (but not a resize).
        let wakes = interrupts.drainWake()
        if wakes.contains(.terminate) || interrupts.isTerminating { return .end }
        let resized = wakes.contains(.resize)
        let editor = UncheckedSendable(editor)
        let wake = interrupts.wakeDescriptor
        let input = await BlockingThread.run {
            editor.value.read(prompt: prompt, wakeDescriptor: wake, terminalResized: resized)
        }
        switch input {
        case .line(let text):
            lineNumber += 1
            return .line(text)
        case .interrupted:
            writeToTerminal("\n")
            return .interrupted
        case .end:
            writeToTerminal("\n")
            return .end
        }
    }

    public func addHistory(_ line: String) {
        editor.addHistory(line)
        do {
            try editor.saveHistory()
        } catch {
            if !historyProblemReported { report("warning: \(error)") }
            historyProblemReported = true
        }
    }

    private func writeToTerminal(_ text: String) {
        var bytes = Array(text.utf8)
        _ = write(STDOUT_FILENO, &bytes, bytes.count)
    }
}

/// Moves a value that is only ever used by one thread at a time to another thread.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// `open(2)` (the name is shadowed inside types that have an `open` method).
func openFile(_ path: String, _ flags: Int32, _ mode: mode_t = 0o644) -> Int32 {
    open(path, flags, mode)
}
