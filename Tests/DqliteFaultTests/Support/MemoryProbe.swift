import Glibc

/// The test process's memory, from `/proc/self/status`: peak virtual size (every mapping counts, touched or
/// not, so a huge allocation shows even if it is never written) and peak resident size (reset on demand
/// through `/proc/self/clear_refs`).
enum MemoryProbe {
    struct Snapshot: Sendable {
        /// VmPeak: the largest virtual size so far, bytes.
        var virtualPeak: Int
        /// VmHWM: the largest resident size since the last reset, bytes.
        var residentPeak: Int
        /// VmRSS: the resident size now, bytes.
        var resident: Int
    }

    /// The growth of both peaks while something ran.
    struct Growth: Sendable, CustomStringConvertible {
        var virtualPeak: Int
        var residentPeak: Int

        var description: String {
            "virtual peak +\(virtualPeak >> 20) MiB, resident peak +\(residentPeak >> 20) MiB"
        }
    }

    static func snapshot() -> Snapshot {
        var text = ""
        let fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC)
        if fd >= 0 {
            var buffer = [UInt8](repeating: 0, count: 16384)
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            close(fd)
            if count > 0 { text = String(decoding: buffer[..<count], as: UTF8.self) }
        }
        func kilobytes(_ key: String) -> Int {
            for line in text.split(separator: "\n") where line.hasPrefix(key + ":") {
                let digits = line.dropFirst(key.count + 1).filter(\.isNumber)
                return (Int(String(digits)) ?? 0) * 1024
            }
            return 0
        }
        return Snapshot(
            virtualPeak: kilobytes("VmPeak"), residentPeak: kilobytes("VmHWM"), resident: kilobytes("VmRSS"))
    }

    /// Resets VmHWM to the current resident size.
    static func resetResidentPeak() {
        let fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = write(fd, "5", 1)
        close(fd)
    }

    /// Runs `body` and returns how much both peaks grew meanwhile.
    static func measure<Result>(
        isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> Result
    ) async rethrows -> (Result, Growth) {
        resetResidentPeak()
        let before = snapshot()
        let result = try await body()
        let after = snapshot()
        return (
            result,
            Growth(
                virtualPeak: max(0, after.virtualPeak - before.virtualPeak),
                residentPeak: max(0, after.residentPeak - before.resident))
        )
    }
}
