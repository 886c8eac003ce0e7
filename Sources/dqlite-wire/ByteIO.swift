import DqliteWireJSON

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Errors opening or reading the input.
struct IOFailure: Error, CustomStringConvertible {
    let description: String
}

/// A file (or standard input) read in chunks with POSIX calls.
struct ByteSource {
    private let fd: Int32
    private let ownsDescriptor: Bool

    init(path: String) throws {
        if path == "-" {
            fd = 0
            ownsDescriptor = false
        } else {
            fd = open(path, O_RDONLY)
            guard fd >= 0 else {
                throw IOFailure(description: "cannot open \(path): \(String(cString: strerror(errno)))")
            }
            ownsDescriptor = true
        }
    }

    /// Reads up to `buffer.count` bytes; 0 means end of input.
    func read(into buffer: inout [UInt8]) throws -> Int {
        while true {
            let n = buffer.withUnsafeMutableBytes { raw in
                #if canImport(Darwin)
                    Darwin.read(fd, raw.baseAddress, raw.count)
                #else
                    Glibc.read(fd, raw.baseAddress, raw.count)
                #endif
            }
            if n >= 0 { return n }
            if errno == EINTR { continue }
            throw IOFailure(description: "read failed: \(String(cString: strerror(errno)))")
        }
    }

    func close() {
        if ownsDescriptor {
            #if canImport(Darwin)
                _ = Darwin.close(fd)
            #else
                _ = Glibc.close(fd)
            #endif
        }
    }
}

/// Buffered JSON-lines output on standard output.
struct LineWriter {
    private var buffer: [UInt8] = []

    mutating func write(_ value: JSONValue) {
        value.write(to: &buffer)
        buffer.append(0x0A)
        if buffer.count >= 1 << 16 { flush() }
    }

    mutating func flush() {
        var start = 0
        while start < buffer.count {
            let n = buffer[start...].withUnsafeBytes { raw in
                #if canImport(Darwin)
                    Darwin.write(1, raw.baseAddress, raw.count)
                #else
                    Glibc.write(1, raw.baseAddress, raw.count)
                #endif
            }
            if n < 0 {
                if errno == EINTR { continue }
                break
            }
            start += n
        }
        buffer.removeAll(keepingCapacity: true)
    }
}
