import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Runs external programs for tests (openssl, stunnel, sqlite3, go-dqlite's tools, `dqlite-node`).
///
/// Everything waits asynchronously (polling with `Task.sleep`), so no cooperative thread is blocked, and
/// every wait is bounded: a program that does not finish in time is killed and the test fails with its output.
enum Subprocess {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Runs a program to completion (killed after `timeout`); returns its exit status and its stdout and
    /// stderr, interleaved. Throws only if it cannot be started or does not finish in time.
    static func run(
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
    static func succeed(
        _ executable: String, _ arguments: [String], in directory: URL? = nil, timeout: Duration = .seconds(30)
    ) async throws -> String {
        let (status, output) = try await run(executable, arguments, in: directory, timeout: timeout)
        guard status == 0 else {
            throw Failure(description: "\(executable) \(arguments.joined(separator: " ")) exited \(status): \(output)")
        }
        return output
    }

    /// Finds a program on PATH (or well-known locations).
    static func find(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") + ["/usr/bin", "/usr/sbin", "/usr/local/bin"] {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}

/// A child process whose stdout and stderr go to a log file. The owner stops it (``kill(signal:)``,
/// ``terminate(grace:)``); every wait is asynchronous and bounded.
final class ChildProcess: Sendable {
    /// The program and its arguments, for messages.
    let commandLine: String
    /// Where its output goes (appended: a restarted node keeps one log).
    let log: URL
    /// The size of the log when this process started: ``output()`` is what it wrote after that.
    let logOffset: UInt64
    /// Its process id.
    let pid: Int32
    private let process: Mutex<Process>

    private init(commandLine: String, log: URL, logOffset: UInt64, process: sending Process) {
        self.commandLine = commandLine
        self.log = log
        self.logOffset = logOffset
        self.pid = process.processIdentifier
        self.process = Mutex(process)
    }

    /// Starts `executable` with its output appended to `log` (created if missing).
    static func launch(_ executable: String, _ arguments: [String], log: URL, in directory: URL? = nil) throws
        -> ChildProcess
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        if !FileManager.default.fileExists(atPath: log.path) {
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        }
        let handle = try FileHandle(forWritingTo: log)
        let offset = handle.seekToEndOfFile()
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            try? handle.close()
            throw Subprocess.Failure(description: "cannot start \(executable): \(error)")
        }
        try? handle.close()
        return ChildProcess(
            commandLine: ([executable] + arguments).joined(separator: " "), log: log, logOffset: offset,
            process: process)
    }

    /// True until the process has exited (and been reaped).
    var isRunning: Bool { process.withLock { $0.isRunning } }

    /// The exit status (or the signal number for a killed process), once it has exited.
    var exitStatus: Int32? {
        process.withLock { $0.isRunning ? nil : $0.terminationStatus }
    }

    /// Everything this process wrote so far (not what earlier processes wrote to the same log).
    func output() -> String {
        guard let handle = try? FileHandle(forReadingFrom: log) else { return "" }
        defer { try? handle.close() }
        handle.seek(toFileOffset: logOffset)
        return String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
    }

    /// Waits until the process exits; false if it still runs after `timeout`.
    func waitForExit(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while isRunning {
            guard ContinuousClock.now < deadline else { return false }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return true
    }

    /// Waits until the output contains `text`; throws with the output if the process exits first or the
    /// text does not appear within `timeout`.
    func waitForOutput(containing text: String, timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        while true {
            if output().contains(text) { return }
            guard isRunning else {
                throw Subprocess.Failure(
                    description: "\(commandLine) exited (\(exitStatus ?? -1)) before printing \"\(text)\":\n\(output())"
                )
            }
            guard ContinuousClock.now < deadline else {
                throw Subprocess.Failure(
                    description: "\(commandLine) did not print \"\(text)\" within \(timeout):\n\(output())")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Sends `signal` (default SIGKILL) and waits until the process is gone (SIGKILL after 10 s if it
    /// ignores another signal).
    func kill(signal: Int32 = SIGKILL) async {
        guard isRunning else { return }
        _ = Glibc.kill(pid, signal)
        if await waitForExit(timeout: .seconds(10)) { return }
        _ = Glibc.kill(pid, SIGKILL)
        _ = await waitForExit(timeout: .seconds(10))
    }

    /// SIGTERM, then SIGKILL if it has not exited after `grace`.
    func terminate(grace: Duration = .seconds(5)) async {
        guard isRunning else { return }
        _ = Glibc.kill(pid, SIGTERM)
        if await waitForExit(timeout: grace) { return }
        await kill()
    }
}
