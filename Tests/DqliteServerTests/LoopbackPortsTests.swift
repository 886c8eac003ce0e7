import DqliteLocalCluster
import Glibc
import Testing

@Suite("Loopback port reservations")
struct LoopbackPortsTests {
    @Test("reserved ports are distinct, in the candidate range, and below the ephemeral range")
    func distinctPorts() async throws {
        let first = try await LoopbackPorts.reserve(count: 40)
        let second = try await LoopbackPorts.reserve(count: 40)
        defer { (first + second).forEach { $0.release() } }
        let ports = (first + second).map { Int($0.port) }
        #expect(Set(ports).count == 80)
        #expect(ports.allSatisfy { LoopbackPorts.candidates.contains($0) })
        #expect(LoopbackPorts.candidates.upperBound <= 32768)
    }

    @Test("a held port is locked for other processes (flock on a separate open file)")
    func crossProcessLock() async throws {
        let reservation = try #require(try await LoopbackPorts.reserve(count: 1).first)
        let path = "\(LoopbackPorts.lockDirectory)/\(reservation.port).lock"
        let fd = open(path, O_RDWR | O_CLOEXEC)
        #expect(fd >= 0)
        defer { close(fd) }
        // Another open file description (as another process would have) cannot take the lock…
        #expect(flock(fd, LOCK_EX | LOCK_NB) != 0)
        reservation.release()
        // …until the reservation is released. (A child process being spawned concurrently by another test
        // holds copies of every descriptor until it execs, so allow it a moment.)
        var locked = false
        for _ in 0..<200 where !locked {
            locked = flock(fd, LOCK_EX | LOCK_NB) == 0
            if !locked { try await Task.sleep(for: .milliseconds(10)) }
        }
        #expect(locked)
        flock(fd, LOCK_UN)
    }
}
