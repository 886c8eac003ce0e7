import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Measures how late a thread that sleeps 10 ms at a time wakes up: on a shared machine (2 cores, other builds
/// and fuzzers running) processes are descheduled for hundreds of milliseconds, and raft's timers — and ours —
/// slip by as much. Timing budgets are checked against `budget + the stall measured meanwhile`, and the
/// report shows that allowance.
final class StallMonitor: Sendable {
    private let samples = Mutex<[(ContinuousClock.Instant, Duration)]>([])
    private let stopped = Mutex(false)

    init() {
        Thread.detachNewThread { [self] in loop() }
    }

    private func loop() {
        let clock = ContinuousClock()
        while !stopped.withLock({ $0 }) {
            let before = clock.now
            usleep(10_000)
            let late = clock.now - before - .milliseconds(10)
            if late > .milliseconds(20) {
                samples.withLock { samples in
                    samples.append((clock.now, late))
                    if samples.count > 100_000 { samples.removeFirst(50_000) }
                }
            }
        }
    }

    /// The longest stall that ended after `start` (zero if none was over 20 ms).
    func worst(since start: ContinuousClock.Instant) -> Duration {
        samples.withLock { samples in
            samples.filter { $0.0 >= start }.map(\.1).max() ?? .zero
        }
    }

    /// The sum of stalls that ended after `start`.
    func total(since start: ContinuousClock.Instant) -> Duration {
        samples.withLock { samples in
            samples.filter { $0.0 >= start }.map(\.1).reduce(.zero, +)
        }
    }

    func stop() { stopped.withLock { $0 = true } }
}
