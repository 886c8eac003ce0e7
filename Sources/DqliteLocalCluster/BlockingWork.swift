import NIOPosix

/// The harness's blocking work: raw sockets, `dqlite118.sh` runs, file-system calls.
///
/// It runs on its own thread pool, not on `NIOThreadPool.singleton` (as many threads as cores, 2 here):
/// parallel tests keep several script runs (0.1–0.5 s each) and socket waits in flight, which would
/// otherwise queue behind each other and starve the in-process nodes' own blocking calls.
enum BlockingWork {
    /// The harness's thread pool (8 threads, started on first use, alive for the whole process).
    static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 8)
        pool.start()
        return pool
    }()

    /// Runs `body` on the harness pool; skipped with `CancellationError` if the task is cancelled before
    /// it starts.
    static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await pool.runIfActive(body)
    }

    /// Runs `body` on the harness pool even when the calling task is cancelled. Teardown (stopping 1.18 node
    /// processes, removing directories) must not be skipped because the test that owns the cluster was
    /// cancelled.
    static func uncancellable<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        let outcome: Result<T, any Error>? = await withCheckedContinuation { continuation in
            pool.submit { state in
                switch state {
                case .active: continuation.resume(returning: Result(catching: body))
                case .cancelled: continuation.resume(returning: nil)
                }
            }
        }
        guard let outcome else { throw LocalClusterError(.io, "the blocking thread pool is shut down") }
        return try outcome.get()
    }
}
