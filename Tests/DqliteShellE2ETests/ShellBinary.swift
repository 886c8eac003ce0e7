import Foundation
import Synchronization

/// Runs the real `dqlite-shell` binary (built next to the test bundle; `DQLITE_SHELL` overrides).
enum ShellBinary {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// What one run printed and how it ended.
    struct Run: Sendable {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// The binary's path.
    static func path() throws -> String {
        if let path = ProcessInfo.processInfo.environment["DQLITE_SHELL"] { return path }
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
            Bundle.main.bundleURL.deletingLastPathComponent(), Bundle.main.bundleURL,
        ].map { $0.appendingPathComponent("dqlite-shell").path }
        guard let found = candidates.first(where: FileManager.default.isExecutableFile(atPath:)) else {
            throw Failure(
                description: "dqlite-shell not found in \(candidates); build it: swift build --product dqlite-shell")
        }
        return found
    }

    /// Runs the shell with `arguments`, feeding `input` on standard input (nil: /dev/null), with
    /// `XDG_STATE_HOME` pointed at `stateDirectory`. Kills it after `timeout`.
    static func run(
        _ arguments: [String], input: String? = nil, stateDirectory: String, timeout: Duration = .seconds(60)
    ) async throws -> Run {
        let process = try start(arguments, input: input, stateDirectory: stateDirectory)
        return try await finish(process, timeout: timeout)
    }

    /// A started shell process with its output files.
    struct Started {
        let process: Process
        let stdout: URL
        let stderr: URL
        let input: URL?
        var pid: Int32 { process.processIdentifier }
    }

    static func start(_ arguments: [String], input: String?, stateDirectory: String) throws -> Started {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try path())
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["XDG_STATE_HOME"] = stateDirectory
        process.environment = environment
        let base = FileManager.default.temporaryDirectory.appendingPathComponent(
            "dqlite-shell-e2e-\(UUID().uuidString)")
        let stdout = base.appendingPathExtension("out")
        let stderr = base.appendingPathExtension("err")
        _ = FileManager.default.createFile(atPath: stdout.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderr.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: stdout)
        process.standardError = try FileHandle(forWritingTo: stderr)
        var inputFile: URL?
        if let input {
            let url = base.appendingPathExtension("in")
            try input.write(to: url, atomically: true, encoding: .utf8)
            process.standardInput = try FileHandle(forReadingFrom: url)
            inputFile = url
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        try process.run()
        return Started(process: process, stdout: stdout, stderr: stderr, input: inputFile)
    }

    /// Waits for a started shell to exit (killing it after `timeout`) and collects its output.
    static func finish(_ started: Started, timeout: Duration) async throws -> Run {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while started.process.isRunning {
            if clock.now > deadline {
                started.process.terminate()
                try await Task.sleep(for: .milliseconds(200))
                kill(started.pid, SIGKILL)
                throw Failure(description: "dqlite-shell did not exit within \(timeout): \(output(started).stderr)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        var run = output(started)
        run.status = started.process.terminationStatus
        for url in [started.stdout, started.stderr] + (started.input.map { [$0] } ?? []) {
            try? FileManager.default.removeItem(at: url)
        }
        return run
    }

    /// What a started shell has printed so far.
    static func output(_ started: Started) -> Run {
        let read = { (url: URL) in (try? String(contentsOf: url, encoding: .utf8)) ?? "" }
        return Run(status: -1, stdout: read(started.stdout), stderr: read(started.stderr))
    }
}

/// A temporary directory removed at the end of a test.
struct TemporaryDirectory: ~Copyable {
    let path: String

    init() throws {
        path =
            FileManager.default.temporaryDirectory.appendingPathComponent("dqlite-shell-e2e-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}
