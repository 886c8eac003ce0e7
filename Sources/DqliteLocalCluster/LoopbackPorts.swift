import Glibc
import Synchronization

/// Hands out loopback TCP ports that no other test — in this process or in another one — is using.
///
/// The scheme (tests run in parallel, and `swift test --parallel` or CI may run several test processes):
///
/// 1. **Candidates come from 20000–32767**, below Linux's ephemeral range (32768–60999, read from
///    `/proc/sys/net/ipv4/ip_local_port_range`). Ports from a `bind(127.0.0.1:0)` would lie *inside*
///    that range, where the kernel also picks the source ports of outgoing connections — and raft peers
///    and clients connect constantly — so such a port can be taken between the probe and the node's own
///    `bind`. Below the range only explicit binds compete. The search starts at a random offset.
/// 2. **Process-wide registry:** a set of the ports this process holds, under a mutex.
/// 3. **Cross-process lock:** an exclusive, non-blocking `flock` on `/tmp/swift-dqlite-ports-<uid>/<port>.lock`,
///    held (file descriptor open) until the reservation is released. The kernel drops it when the process
///    exits, even on a crash, so there are never stale reservations. The empty lock files stay (unlinking
///    a lock file races with a process that has just opened it).
/// 4. **Probe:** `bind(127.0.0.1:port)` with `SO_REUSEADDR` (as libdqlite binds) must succeed, which rules
///    out ports that processes outside the scheme listen on.
///
/// A reservation is kept for a cluster's whole life, also while a node is stopped, so a node restarts on
/// its own address.
public enum LoopbackPorts {
    /// The candidate range.
    public static let candidates: Range<Int> = {
        let lower = 20000
        var upper = 32768
        if let text = readSmallFile("/proc/sys/net/ipv4/ip_local_port_range"),
            let first = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).first,
            let ephemeralLow = Int(first), ephemeralLow > lower &+ 1024
        {
            upper = min(upper, ephemeralLow)
        }
        return lower..<upper
    }()

    /// The directory of the lock files.
    public static var lockDirectory: String { "/tmp/swift-dqlite-ports-\(getuid())" }

    private static let registry = Mutex(Set<Int>())

    /// Reserves `count` distinct free loopback ports (off the cooperative pool: it makes file and socket
    /// calls). Release them with ``LoopbackPortReservation/release()`` (or let them deinitialize).
    public static func reserve(count: Int) async throws -> [LoopbackPortReservation] {
        try await BlockingWork.run { try reserveBlocking(count: count) }
    }

    /// ``reserve(count:)`` on the calling thread (it blocks briefly on file and socket calls).
    public static func reserveBlocking(count: Int) throws -> [LoopbackPortReservation] {
        guard count >= 0 else { throw LocalClusterError(.portAllocation, "cannot reserve \(count) ports") }
        let directory = lockDirectory
        if mkdir(directory, 0o700) != 0 && errno != EEXIST {
            let number = errno
            throw LocalClusterError(
                .portAllocation, "cannot create \(directory): \(String(cString: strerror(number)))")
        }
        var reserved: [LoopbackPortReservation] = []
        let range = candidates
        var port = Int.random(in: range)
        var tried = 0
        while reserved.count < count {
            guard tried < range.count else {
                reserved.forEach { $0.release() }
                throw LocalClusterError(
                    .portAllocation, "no free loopback port in \(range.lowerBound)-\(range.upperBound - 1)")
            }
            tried &+= 1
            if let reservation = tryReserve(port, directory: directory) { reserved.append(reservation) }
            port = port &+ 1 == range.upperBound ? range.lowerBound : port &+ 1
        }
        return reserved
    }

    /// Steps 2–4 of the scheme for one port.
    private static func tryReserve(_ port: Int, directory: String) -> LoopbackPortReservation? {
        guard registry.withLock({ $0.insert(port).inserted }) else { return nil }
        let fd = open("\(directory)/\(port).lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            registry.withLock { _ = $0.remove(port) }
            return nil
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0, isBindable(port) else {
            close(fd)
            registry.withLock { _ = $0.remove(port) }
            return nil
        }
        return LoopbackPortReservation(port: UInt16(truncatingIfNeeded: port), lockFileDescriptor: fd)
    }

    /// True if `bind(127.0.0.1:port)` with `SO_REUSEADDR` succeeds right now.
    static func isBindable(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var reuse: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(truncatingIfNeeded: port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let rc = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        return rc == 0
    }

    /// Called by ``LoopbackPortReservation/release()``.
    static func unregister(_ port: UInt16) {
        registry.withLock { _ = $0.remove(Int(port)) }
    }

    private static func readSmallFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        return String(decoding: buffer.prefix(count), as: UTF8.self)
    }
}

/// One reserved loopback port (see ``LoopbackPorts``). Holds the cross-process lock until ``release()``
/// or deinitialization.
public final class LoopbackPortReservation: Sendable {
    /// The port.
    public let port: UInt16
    private let lockFileDescriptor: Mutex<Int32?>

    init(port: UInt16, lockFileDescriptor: Int32) {
        self.port = port
        self.lockFileDescriptor = Mutex(lockFileDescriptor)
    }

    /// `127.0.0.1:<port>`.
    public var address: String { "127.0.0.1:\(port)" }

    /// Gives the port back (idempotent).
    public func release() {
        let fd = lockFileDescriptor.withLock { fd -> Int32? in
            defer { fd = nil }
            return fd
        }
        guard let fd else { return }
        close(fd)
        LoopbackPorts.unregister(port)
    }

    deinit {
        release()
    }
}
