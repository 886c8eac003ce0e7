import NIOPosix

/// Runs blocking work (libdqlite's create, start and stop, `getaddrinfo`, file-system calls) on
/// `NIOThreadPool.singleton`, never on Swift's cooperative pool or a NIO event loop.
///
/// Deliberately **not cancellable** (unlike `NIOThreadPool.runIfActive`, which skips work whose task was
/// cancelled before it ran): a lifecycle step must happen once requested — above all `stop()` in a
/// cleanup path, which often runs in a cancelled task. Each step takes milliseconds (name resolution
/// can take as long as the system resolver's timeout).
enum BlockingCalls {
    /// Runs `body` on the blocking pool and returns its outcome.
    ///
    /// The outer `throws` is only for a pool that refuses work (``DqliteNodeError/Code/threadPoolUnavailable``,
    /// which `NIOThreadPool.singleton` never does); `body`'s own outcome comes back as the `Result`, so callers
    /// know whether `body` ran.
    static func run<T: Sendable>(
        nodeID: UInt64, _ body: @escaping @Sendable () throws(DqliteNodeError) -> T
    ) async throws(DqliteNodeError) -> Result<T, DqliteNodeError> {
        let outcome: Result<T, DqliteNodeError>? = await withCheckedContinuation { continuation in
            NIOThreadPool.singleton.submit { state in
                switch state {
                case .active:
                    do throws(DqliteNodeError) {
                        continuation.resume(returning: .success(try body()))
                    } catch {
                        continuation.resume(returning: .failure(error))
                    }
                case .cancelled:
                    continuation.resume(returning: nil)
                }
            }
        }
        guard let outcome else {
            throw DqliteNodeError(
                .threadPoolUnavailable, message: "the blocking thread pool is shut down and refused work",
                nodeID: nodeID)
        }
        return outcome
    }
}
