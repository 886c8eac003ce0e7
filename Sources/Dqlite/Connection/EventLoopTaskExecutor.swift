import NIOCore

/// A `TaskExecutor` that runs jobs on one NIO event loop.
///
/// Used when ``DqliteClient/Configuration/runsSessionsOnEventLoop`` is on: a session's work then runs on its
/// connection's event loop, so a request is written and its answer resumes the task on the same thread,
/// without handing each request between the loop and Swift's global concurrency pool.
final class EventLoopTaskExecutor: TaskExecutor {
    let loop: any EventLoop

    init(loop: any EventLoop) {
        self.loop = loop
    }

    /// True when called on the executor's event loop.
    var isCurrent: Bool { loop.inEventLoop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
