import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Runs external programs for tests (openssl, stunnel, sqlite3, go-dqlite's tools, `dqlite-node`).
///
/// Everything waits asynchronously (polling with `Task.sleep`), so no cooperative thread is blocked, and
/// every wait is bounded: a program that does not finish in time is killed and the test fails with its output.
package enum Subprocess {
    /// A program that could not be started, did not finish in time, or failed.
    package struct Failure: Error, CustomStringConvertible {
        package let description: String
        package init(description: String) { self.description = description }
    }

    /// Runs a program to completion (killed after `timeout`); returns its exit status and its stdout and
    /// stderr, interleaved. Throws only if it cannot be started or does not finish in time.
    package static func run(
        _ executable: String, _ arguments: [String], in directory: URL? = nil, timeout: Duration = .seconds(30)
    ) async throws -> (status: Int32, output: String) {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("swift-dqlite-run-\(UUID()).log")
        defer { try? FileManager.default.removeItem(at: log) }
        let child = try ChildProcess.launch(executable, arguments, log: log, in: directory)
        guard await child.waitForExit(timeout: timeout) else {
            await child.kill()
            throw Failure(
                description:
                    "\(executable) \(arguments.joined(separator: " ")) did not finish within \(timeout); output:\n"
                    + child.output())
        }
        return (child.exitStatus ?? -1, child.output())
    }

    /// Runs a program that must exit 0; returns its output, or throws with it.
    @discardableResult
    package static func succeed(
        _ executable: String, _ arguments: [String], in directory: URL? = nil, timeout: Duration = .seconds(30)
    ) async throws -> String {
        let (status, output) = try await run(executable, arguments, in: directory, timeout: timeout)
        guard status == 0 else {
            throw Failure(description: "\(executable) \(arguments.joined(separator: " ")) exited \(status): \(output)")
        }
        return output
    }

    /// Finds a program on PATH (or well-known locations).
    package static func find(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") + ["/usr/bin", "/usr/sbin", "/usr/local/bin"] {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
