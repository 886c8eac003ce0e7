import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where the shell writes text: results (standard output or an `.output` file) and messages (standard
/// error).
public protocol ShellTextSink: AnyObject, Sendable {
    /// Appends text (possibly buffered).
    func write(_ text: String)
    /// Writes out what is buffered.
    func flush()
    /// Writes out what is buffered if the last flush was more than a moment ago, so slow streams show
    /// their rows as they come.
    func flushIfStale()
    /// Why writing failed (e.g. the reader of a pipe went away), once it has.
    var failure: String? { get }
}

extension ShellTextSink {
    public func flushIfStale() {}
}

/// A `TextOutputStream` over a sink, for `ResultRenderer`.
struct SinkWriter: TextOutputStream {
    let sink: any ShellTextSink

    mutating func write(_ string: String) {
        sink.write(string)
    }
}

/// Text written to a file descriptor through a buffer (flushed at 64 KiB, on `flush()`, and by
/// `flushIfStale()` after 100 ms).
public final class FileDescriptorSink: ShellTextSink {
    private struct State {
        var buffer: [UInt8] = []
        var failure: String?
        var lastFlush = ContinuousClock.now
    }

    /// The descriptor written to.
    public let descriptor: Int32
    /// A description for messages (a path, or "standard output").
    public let name: String
    private let ownsDescriptor: Bool
    private let state = Mutex(State())
    private static let capacity = 64 * 1024

    /// Writes to `descriptor`, closing it on deinit when `ownsDescriptor`.
    public init(descriptor: Int32, name: String, ownsDescriptor: Bool) {
        self.descriptor = descriptor
        self.name = name
        self.ownsDescriptor = ownsDescriptor
    }

    /// Creates (or truncates) a file and writes to it.
    public static func create(path: String) throws(ShellFailure) -> FileDescriptorSink {
        let descriptor = openFile(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw ShellFailure(message: "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        return FileDescriptorSink(descriptor: descriptor, name: path, ownsDescriptor: true)
    }

    deinit {
        flush()
        if ownsDescriptor { close(descriptor) }
    }

    public func write(_ text: String) {
        state.withLock { state in
            guard state.failure == nil else { return }
            state.buffer.append(contentsOf: text.utf8)
            if state.buffer.count >= Self.capacity { writeOut(&state) }
        }
    }

    public func flush() {
        state.withLock { writeOut(&$0) }
    }

    public func flushIfStale() {
        state.withLock { state in
            if !state.buffer.isEmpty, ContinuousClock.now - state.lastFlush > .milliseconds(100) { writeOut(&state) }
        }
    }

    public var failure: String? { state.withLock { $0.failure } }

    private func writeOut(_ state: inout State) {
        state.lastFlush = .now
        guard !state.buffer.isEmpty else { return }
        defer { state.buffer.removeAll(keepingCapacity: state.buffer.count <= Self.capacity * 4) }
        guard state.failure == nil else { return }
        var offset = 0
        while offset < state.buffer.count {
            let written = state.buffer.withUnsafeBytes { bytes in
                systemWrite(descriptor, UnsafeRawBufferPointer(rebasing: bytes[offset...]))
            }
            if written < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                state.failure =
                    errno == EPIPE
                    ? "\(name) was closed" : "cannot write to \(name): \(String(cString: strerror(errno)))"
                return
            }
            offset += written
        }
    }
}

/// Text kept in memory (tests).
public final class MemorySink: ShellTextSink {
    private let storage = Mutex("")

    /// Creates an empty sink.
    public init() {}

    public func write(_ text: String) {
        storage.withLock { $0 += text }
    }

    public func flush() {}

    public var failure: String? { nil }

    /// Everything written so far.
    public var text: String { storage.withLock { $0 } }

    /// Returns everything written so far and forgets it.
    public func take() -> String {
        storage.withLock { text in
            defer { text = "" }
            return text
        }
    }
}

/// `write(2)` of a buffer (the name is shadowed inside types that have a `write` method).
func systemWrite(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> Int {
    guard let base = bytes.baseAddress else { return 0 }
    return write(descriptor, base, bytes.count)
}
