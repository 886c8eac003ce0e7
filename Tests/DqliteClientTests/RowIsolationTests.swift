import Dispatch
import DqliteLocalCluster
import NIOConcurrencyHelpers
import Testing

@testable import Dqlite

/// A serial executor that counts the jobs it is given: each hop onto the actor is one job.
private final class CountingExecutor: SerialExecutor, @unchecked Sendable {
    private let queue = DispatchQueue(label: "dqlite.tests.counting-executor")
    let jobs = NIOLockedValueBox(0)

    func enqueue(_ job: consuming ExecutorJob) {
        jobs.withLockedValue { $0 += 1 }
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedSerialExecutor()) }
    }
}

/// An actor on that executor that iterates rows.
private actor RowCounter {
    let executor = CountingExecutor()
    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    func count(_ rows: DqliteRowSequence) async throws -> Int {
        var count = 0
        for try await _ in rows { count += 1 }
        return count
    }
}

@Suite("Row iteration on an actor", .timeLimit(.minutes(2)))
struct RowIsolationTests {
    @Test("a for-await loop on an actor hops per batch of frames, not per row")
    func hopsPerBatch() async throws {
        try await withClusterClient(.v1_11) { _, client in
            let rows = try await client.query(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) SELECT i FROM n")
            let counter = RowCounter()
            let count = try await counter.count(rows)
            let jobs = counter.executor.jobs.withLockedValue { $0 }
            print("MEASURE row iteration on an actor: \(jobs) executor jobs for \(count) rows")
            #expect(count == 20_000)
            // Before `next(isolation:)`, every row left the actor and came back: at least one job per row.
            #expect(jobs < count / 10, "\(jobs) jobs on the actor's executor for \(count) rows")
        }
    }
}
