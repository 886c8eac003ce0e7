// The little the runner needs from the C library: read a file, list a directory, uname(2).
// No Foundation, so the same sources build with the 6.0.3 cross compiler (see scripts/test-arm64.sh).
#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// An I/O failure, described for the log.
struct SystemError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

enum SystemIO {
    /// The whole contents of the file at `path`.
    static func readFile(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw SystemError("cannot open \(path) (errno \(errno))") }
        defer { _ = close(fd) }
        var contents: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw SystemError("cannot read \(path) (errno \(errno))")
            }
            if count == 0 { break }
            contents.append(contentsOf: chunk[0..<count])
        }
        return contents
    }

    /// Names of the entries in `directory` ending in `suffix`, sorted bytewise (the order the tests use).
    static func fileNames(in directory: String, suffix: String) throws -> [String] {
        guard let dir = opendir(directory) else {
            throw SystemError("cannot open directory \(directory) (errno \(errno))")
        }
        defer { _ = closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) { tuple in
                tuple.withMemoryRebound(to: CChar.self, capacity: MemoryLayout.size(ofValue: tuple.pointee)) {
                    String(cString: $0)
                }
            }
            if name.hasSuffix(suffix), !name.hasPrefix(".") { names.append(name) }
        }
        return names.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }

    /// A monotonic clock in milliseconds.
    static func milliseconds() -> Int {
        var now = timespec()
        _ = clock_gettime(CLOCK_MONOTONIC, &now)
        return Int(now.tv_sec) * 1000 + Int(now.tv_nsec) / 1_000_000
    }

    /// `uname -m` as the running process sees it (qemu-user reports the emulated machine).
    static func machine() -> String {
        var info = utsname()
        guard uname(&info) == 0 else { return "unknown" }
        return withUnsafePointer(to: &info.machine) { tuple in
            tuple.withMemoryRebound(to: CChar.self, capacity: MemoryLayout.size(ofValue: tuple.pointee)) {
                String(cString: $0)
            }
        }
    }
}

/// The architecture this binary was compiled for, from `#if arch(...)`.
let compiledArchitecture: String = {
    #if arch(arm64)
        return "arm64"
    #elseif arch(x86_64)
        return "x86_64"
    #else
        return "other"
    #endif
}()
