import DqliteLocalCluster
import Testing

@testable import Dqlite

/// Defect 9 of the client-core issue: a task iterating a large result did not notice its cancellation
/// (read-ahead keeps frames waiting, so the iterator never reached the await with the cancellation handler);
/// tried against a 1.11.1 node it returned all 50,000,000 rows of the query below.
@Suite("Cancelling a task that reads a large result", .timeLimit(.minutes(2)))
struct StreamCancellationTests {
    static let rowCount = 50_000_000
    static let huge: DqliteQuery = """
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < \(rowCount)) SELECT i FROM n
        """

    /// Rows a reader may take after its cancellation: with a consumer slower than the server, frames are always
    /// waiting, which is what hid the cancellation. A batch is at most 32 frames of about 4 KiB (~15,000 rows of
    /// one integer); the fixed reader stops within the batch after the one in which it was cancelled.
    static let stopBound = 100_000

    /// A consumer slower than the server (about 20 µs per row), without suspending (a suspension point could
    /// notice the cancellation itself).
    static func slowConsumer() {
        let clock = ContinuousClock()
        let until = clock.now + .microseconds(20)
        while clock.now < until {}
    }

    @Test("the row sequence stops within a batch, throws cancelled, and the client goes on")
    func cancelStopsTheStream() async throws {
        try await withClusterClient(.v1_11) { _, client in
            let reader = Task { () -> (rows: Int, error: (any Error)?) in
                var rows = 0
                do {
                    for try await _ in try await client.query(Self.huge) {
                        rows += 1
                        Self.slowConsumer()
                        if rows == 1000 { withUnsafeCurrentTask { $0?.cancel() } }
                        if rows == Self.stopBound { break }  // not stopped: the test fails below
                    }
                    return (rows, nil)
                } catch {
                    return (rows, error)
                }
            }
            let (rows, error) = await reader.value
            print(
                "MEASURE cancelled stream: \(rows) rows read after cancelling at row 1000: \(String(describing: error))"
            )
            #expect(rows < Self.stopBound, "the cancelled task read \(rows) rows")
            let failure = try #require(error as? DqliteError, "no DqliteError: \(String(describing: error))")
            #expect(failure.code == .cancelled, "\(failure)")
            // The stream was interrupted and drained (or, past the drain bound, its connection closed): the
            // client serves the next call.
            #expect(try await client.scalar("SELECT 42") == 42)
            let pool = try client.pool(for: "client-tests").counts
            #expect(pool.leased == 0, "\(pool)")
        }
    }

    @Test("inside a session too: the session's next statement works")
    func cancelInsideSession() async throws {
        try await withClusterClient(.v1_11) { _, client async throws in
            let outcome = await Task { () -> (Int, (any Error)?) in
                let result = try? await client.withConnection { session -> (Int, (any Error)?) in
                    var rows = 0
                    do {
                        for try await _ in try await session.query(Self.huge) {
                            rows += 1
                            Self.slowConsumer()
                            if rows == 1000 { withUnsafeCurrentTask { $0?.cancel() } }
                            if rows == Self.stopBound { break }
                        }
                        return (rows, nil)
                    } catch {
                        return (rows, error)
                    }
                }
                return result ?? (-1, nil)
            }.value
            #expect(outcome.0 >= 1000 && outcome.0 < Self.stopBound, "read \(outcome.0) rows")
            #expect((outcome.1 as? DqliteError)?.code == .cancelled, "\(String(describing: outcome.1))")
            #expect(try await client.scalar("SELECT 7") == 7)
        }
    }
}
