import DqliteWire
import Glibc

/// The node's data directory: created with its parents if missing, made absolute, and locked.
///
/// All of it is file-system I/O, so it runs on a blocking thread (see ``BlockingCalls``).
enum DataDirectory {
    /// The name of the lock file kept in every data directory a ``DqliteNode`` uses.
    ///
    /// libdqlite 1.11.1 does not lock its data directory: two nodes on one directory both start and then
    /// corrupt each other's raft log. An exclusive `flock` on this file, held from `init` until the node is
    /// stopped or deinitialized, turns that into ``DqliteNodeError/Code/dataDirectoryInUse``. raft ignores
    /// files it does not know, and the lock is released by the kernel if the process dies.
    static let lockFileName = ".swift-dqlite-node.lock"

    /// Creates `path` and its missing parents (mode 0700: raft logs hold the databases' contents) and
    /// returns it as an absolute, symlink-free path.
    static func prepare(_ path: String, nodeID: UInt64) throws(DqliteNodeError) -> String {
        func failure(_ what: String, _ number: Int32? = nil) -> DqliteNodeError {
            var message = "data directory \"\(NodeAddressSyntax.printable(path))\": \(what)"
            if let number { message += ": \(String(cString: strerror(number)))" }
            return DqliteNodeError(
                .dataDirectory, operation: .prepareDataDirectory, systemErrorNumber: number, message: message,
                nodeID: nodeID)
        }
        guard !path.isEmpty else { throw failure("the path is empty") }
        guard !path.utf8.contains(0) else { throw failure("the path contains a NUL byte") }
        guard path.utf8.count < Int(PATH_MAX) else { throw failure("the path is longer than PATH_MAX") }

        // mkdir -p: create each missing prefix in turn.
        let absolute = path.hasPrefix("/")
        var prefix = absolute ? "" : "."
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            prefix += "/" + component
            if mkdir(prefix, 0o700) != 0 {
                let number = errno
                guard number == EEXIST else { throw failure("cannot create \"\(prefix)\"", number) }
            }
        }
        var info = stat()
        guard stat(path, &info) == 0 else { throw failure("cannot inspect it", errno) }
        guard (info.st_mode & S_IFMT) == S_IFDIR else { throw failure("exists but is not a directory") }
        guard let resolved = realpath(path, nil) else { throw failure("cannot resolve it", errno) }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Takes the directory's exclusive lock (one non-blocking attempt); nil while someone else holds it.
    static func tryLock(_ directory: String, nodeID: UInt64) throws(DqliteNodeError) -> DataDirectoryLock? {
        let path = directory + "/" + lockFileName
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            let number = errno
            throw DqliteNodeError(
                .dataDirectory, operation: .lockDataDirectory, systemErrorNumber: number,
                message: "cannot open \"\(path)\": \(String(cString: strerror(number)))", nodeID: nodeID)
        }
        var rc = flock(fd, LOCK_EX | LOCK_NB)
        while rc != 0 && errno == EINTR { rc = flock(fd, LOCK_EX | LOCK_NB) }
        guard rc == 0 else {
            let number = errno
            close(fd)
            if number == EWOULDBLOCK { return nil }
            throw DqliteNodeError(
                .dataDirectory, operation: .lockDataDirectory, systemErrorNumber: number,
                message: "cannot lock \"\(path)\": \(String(cString: strerror(number)))", nodeID: nodeID)
        }
        return DataDirectoryLock(fileDescriptor: fd)
    }

    /// How long a lock held by someone else is retried before the directory counts as in use.
    ///
    /// A `fork` anywhere in the process (spawning a child process, e.g. Foundation's `Process`) copies every
    /// descriptor into the child until it `exec`s (`O_CLOEXEC` closes them only then), and with them the
    /// `flock`s: right after a node stops, its lock can still be held for a few milliseconds by such a child.
    static let lockRetryWindow: Duration = .seconds(1)

    /// Takes the directory's exclusive lock, retrying every 10 ms for ``lockRetryWindow`` (each attempt on
    /// the blocking pool, the waits on the async side), or throws ``DqliteNodeError/Code/dataDirectoryInUse``.
    static func lock(_ directory: String, nodeID: UInt64) async throws(DqliteNodeError) -> DataDirectoryLock {
        let deadline = ContinuousClock.now.advanced(by: lockRetryWindow)
        while true {
            let attempt = try await BlockingCalls.run(nodeID: nodeID) { () throws(DqliteNodeError) in
                try tryLock(directory, nodeID: nodeID)
            }
            if let lock = try attempt.get() { return lock }
            guard ContinuousClock.now < deadline, !Task.isCancelled else {
                throw DqliteNodeError(
                    .dataDirectoryInUse, operation: .lockDataDirectory, systemErrorNumber: EWOULDBLOCK,
                    message: "data directory \"\(directory)\" is used by another dqlite node (lock \(lockFileName))",
                    nodeID: nodeID)
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }
}

/// A held data-directory lock: an open file descriptor with an exclusive `flock`.
///
/// Copyable for storage in the node's state enum; ``DqliteNode``'s state machine releases it exactly once,
/// when the node is destroyed.
struct DataDirectoryLock: Sendable {
    let fileDescriptor: Int32

    /// Closes the descriptor, which drops the lock.
    func release() {
        close(fileDescriptor)
    }
}
