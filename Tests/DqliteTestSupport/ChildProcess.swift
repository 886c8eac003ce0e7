import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A child process whose stdout and stderr go to a log file, for tests (`dqlite-node`, go-dqlite's tools,
/// openssl, stunnel). The owner stops it (``kill(signal:grace:)``, ``terminate(grace:)``); every wait is
/// asynchronous (polling with `Task.sleep`) and bounded, so no cooperative thread blocks.
package final class ChildProcess: Sendable {
    /// The program and its arguments, for messages.
    package let commandLine: String
    /// Where its output goes (appended: a restarted node keeps one log).
    package let log: URL
    /// The size of the log when this process started: ``output()`` is what it wrote after that.
    package let logOffset: UInt64
    /// Its process id.
    package let pid: Int32
    private let process: Mutex<Process>

    private init(commandLine: String, log: URL, logOffset: UInt64, process: sending Process) {
        self.commandLine = commandLine
        self.log = log
        self.logOffset = logOffset
        self.pid = process.processIdentifier
        self.process = Mutex(process)
    }

    /// Starts `executable` in `directory` (default: the current one) with its output appended to `log`
    /// (created if missing).
    package static func launch(_ executable: String, _ arguments: [String], log: URL, in directory: URL? = nil)
        throws -> ChildProcess
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
    package var isRunning: Bool { process.withLock { $0.isRunning } }

    /// The exit status (or the signal number for a killed process), once it has exited.
    package var exitStatus: Int32? {
        process.withLock { $0.isRunning ? nil : $0.terminationStatus }
    }

    /// Everything this process wrote so far (not what earlier processes wrote to the same log).
    package func output() -> String {
        guard let handle = try? FileHandle(forReadingFrom: log) else { return "" }
        defer { try? handle.close() }
        handle.seek(toFileOffset: logOffset)
        return String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
    }

    /// The last `limit` characters of ``output()``.
    package func tail(_ limit: Int = 2000) -> String { String(output().suffix(limit)) }

    /// Sends `signal` without waiting (SIGSTOP, SIGCONT).
    package func signal(_ signal: Int32) {
        guard isRunning else { return }
        _ = Glibc.kill(pid, signal)
    }

    /// Waits until the process exits; false if it still runs after `timeout`.
    package func waitForExit(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while isRunning {
            guard ContinuousClock.now < deadline else { return false }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return true
    }

    /// Waits until the output contains `text`; throws with the output if the process exits first or the
    /// text does not appear within `timeout`.
    package func waitForOutput(containing text: String, timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        while true {
            if output().contains(text) { return }
            guard isRunning else {
                throw Subprocess.Failure(
                    description: "\(commandLine) exited (\(exitStatus ?? -1)) before printing \"\(text)\":\n\(tail())")
            }
            guard ContinuousClock.now < deadline else {
                throw Subprocess.Failure(
                    description: "\(commandLine) did not print \"\(text)\" within \(timeout):\n\(tail())")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Sends `signal` (default SIGKILL) and waits until the process is gone (SIGKILL after `grace` if it
    /// ignores another signal). A stopped process is continued first so that SIGTERM can act.
    package func kill(signal: Int32 = SIGKILL, grace: Duration = .seconds(10)) async {
        guard isRunning else { return }
        _ = Glibc.kill(pid, signal)
        if signal != SIGKILL { _ = Glibc.kill(pid, SIGCONT) }
        if await waitForExit(timeout: grace) { return }
        _ = Glibc.kill(pid, SIGKILL)
        _ = await waitForExit(timeout: .seconds(10))
    }

    /// SIGTERM, then SIGKILL if it has not exited after `grace`.
    package func terminate(grace: Duration = .seconds(5)) async {
        await kill(signal: SIGTERM, grace: grace)
    }
}
