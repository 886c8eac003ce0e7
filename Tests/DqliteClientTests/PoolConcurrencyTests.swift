import DqliteLocalCluster
import Testing

@testable import Dqlite

/// Many tasks through a small pool.
@Suite("Pool under concurrency", .timeLimit(.minutes(3)))
struct PoolConcurrencyTests {
    static let tasks = 50
    static let maximumConnections = 8

    @Test(
        "50 concurrent tasks through a pool of 8: all succeed, every insert exactly once",
        arguments: DqliteGeneration.allCases, [1, 3])
    func fiftyTasks(_ generation: DqliteGeneration, nodes: Int) async throws {
        try await withClusterClient(
            generation, nodes: nodes, configure: { $0.pool.maximumConnections = Self.maximumConnections }
        ) { _, client in
            try await client.execute("CREATE TABLE items (task INTEGER NOT NULL, step INTEGER NOT NULL, note TEXT)")
            let pool = try client.defaultPool
            let highWater = Shared(0)
            let monitorStop = Shared(false)
            let monitor = Task {
                while !monitorStop.value {
                    let counts = pool.counts
                    let open = counts.idle + counts.leased + counts.creating
                    highWater.update { $0 = max($0, open) }
                    try? await Task.sleep(for: .milliseconds(1))
                }
            }
            let clock = ContinuousClock()
            let started = clock.now
            let results = await withTaskGroup(of: Result<Int, any Error>.self) { group in
                for task in 0..<Self.tasks {
                    group.addTask {
                        do {
                            // A write, a read of it, a transaction, and a streamed read: each leases a connection.
                            try await client.execute(
                                "INSERT INTO items (task, step, note) VALUES (\(task), 1, \("task \(task)"))")
                            let mine: Int = try await client.scalar("SELECT count(*) FROM items WHERE task = \(task)")
                            guard mine == 1 else { throw TestFailure("task \(task) sees \(mine) rows of its own") }
                            try await client.withTransaction { session in
                                try await session.execute("INSERT INTO items (task, step) VALUES (\(task), 2)")
                                try await session.execute("UPDATE items SET note = note || '!' WHERE task = \(task)")
                            }
                            var streamed = 0
                            for try await _ in try await client.query("SELECT task FROM items LIMIT 20") {
                                streamed += 1
                            }
                            return .success(task)
                        } catch {
                            return .failure(error)
                        }
                    }
                }
                var results: [Result<Int, any Error>] = []
                for await result in group { results.append(result) }
                return results
            }
            let elapsed = clock.now - started
            monitorStop.update { $0 = true }
            await monitor.value

            let failures = results.compactMap { result -> String? in
                if case .failure(let error) = result { return "\(type(of: error)): \(error)" }
                return nil
            }
            #expect(failures.isEmpty, "\(failures.count) tasks failed: \(failures.prefix(5))")
            let succeeded = results.compactMap { try? $0.get() }.sorted()
            #expect(succeeded == Array(0..<Self.tasks))

            // Every task's rows are there exactly once.
            let perTask = try await client.query(
                "SELECT task, count(*), sum(step), max(note) FROM items GROUP BY task ORDER BY task"
            ).decode((Int, Int, Int, String?).self)
            #expect(perTask.map(\.0) == Array(0..<Self.tasks))
            for (task, count, steps, note) in perTask {
                #expect(count == 2 && steps == 3, "task \(task): \(count) rows, steps \(steps)")
                #expect(note == "task \(task)!")
            }
            #expect(try await client.scalar("SELECT count(*) FROM items") == 2 * Self.tasks)

            // The pool never held more than its maximum, and kept its connections for reuse.
            #expect(highWater.value <= Self.maximumConnections)
            #expect(highWater.value >= 2, "the tasks did not run concurrently")
            let counts = pool.counts
            #expect(counts.leased == 0 && counts.creating == 0 && counts.waiting == 0)
            #expect(counts.idle >= 1 && counts.idle <= Self.maximumConnections)
            print(
                "MEASURE \(generation) \(nodes)-node pool: \(Self.tasks) tasks (insert, read, transaction, stream) "
                    + "through \(Self.maximumConnections) connections in \(milliseconds(elapsed)); "
                    + "at most \(highWater.value) open, \(counts.idle) idle after")
        }
    }

    @Test(
        "4 callers in a loop on 3 connections: a caller queued as a connection comes back gets it (no CancellationError)",
        arguments: DqliteGeneration.allCases)
    func queuedCallersServed(_ generation: DqliteGeneration) async throws {
        try await withClusterClient(generation, configure: { $0.pool.maximumConnections = 3 }) { _, client in
            let clock = ContinuousClock()
            let started = clock.now
            let failures = await withTaskGroup(of: [String].self) { group in
                for task in 0..<4 {
                    group.addTask {
                        var failures: [String] = []
                        for round in 0..<250 {
                            do {
                                let value: Int = try await client.scalar("SELECT \(task * 1000 + round)")
                                if value != task * 1000 + round { failures.append("wrong answer \(value)") }
                            } catch {
                                failures.append("\(type(of: error)): \(error)")
                            }
                        }
                        return failures
                    }
                }
                var all: [String] = []
                for await failures in group { all += failures }
                return all
            }
            let elapsed = clock.now - started
            #expect(failures.isEmpty, "\(failures.count) of 1000 calls failed: \(Array(Set(failures)).prefix(3))")
            let counts = try client.defaultPool.counts
            #expect(counts.idle >= 1 && counts.idle <= 3 && counts.leased == 0 && counts.waiting == 0)
            print(
                "MEASURE \(generation) 1000 calls from 4 tasks on 3 connections in \(milliseconds(elapsed)), "
                    + "\(failures.count) failed")
        }
    }

    @Test(
        "a full pool: no waiting room fails at once, a waiter past its lease timeout fails",
        arguments: DqliteGeneration.allCases)
    func exhausted(_ generation: DqliteGeneration) async throws {
        for maximumWaiters in [0, 10] {
            try await withClusterClient(
                generation,
                configure: {
                    $0.pool.maximumConnections = 1
                    $0.pool.maximumWaiters = maximumWaiters
                    $0.pool.leaseTimeout = .milliseconds(300)
                }
            ) { _, client in
                let clock = ContinuousClock()
                try await client.withConnection { session throws in
                    #expect(try await session.scalar("SELECT 1") == 1)
                    let started = clock.now
                    await expectDqliteError(.poolExhausted) { try await client.scalar("SELECT 2", as: Int.self) }
                    let waited = clock.now - started
                    if maximumWaiters == 0 {
                        #expect(
                            waited < .seconds(2),
                            "refused after \(milliseconds(waited)) (the lease timeout is far longer)")
                    } else {
                        #expect(waited >= .milliseconds(250), "gave up after \(milliseconds(waited))")
                    }
                }
                // The connection is free again.
                #expect(try await client.scalar("SELECT 3") == 3)
                #expect(try client.defaultPool.counts.waiting == 0)
            }
        }
    }
}
