import Foundation
import Synchronization

/// Runs `scripts/dqlite118.sh` (libdqlite 1.18.7 nodes in a cached chroot, as child processes).
///
/// The script is found relative to this source file (`#filePath` → package root → `scripts/`), or at
/// `$DQLITE118_SCRIPT`. Its `start` waits for the node's READY line and prints
/// `dqlite118: ready id=N address=A pid=P libdqlite=1.18.7 …`; the node then runs on its own (setsid),
/// recorded under `$DQ118_RUN` (default `/run/dqlite-118`), until `stop --address A`.
package struct Dqlite118Script: Sendable {
    /// Absolute path of the script.
    let path: String

    /// A started node.
    struct StartedNode: Sendable {
        var pid: Int32
        var libraryVersion: String
    }

    /// Finds the script and checks that it can run here (root is needed for mmdebstrap, unshare, chroot).
    package static func locate(filePath: String = #filePath) throws -> Dqlite118Script {
        let path: String
        if let override = ProcessInfo.processInfo.environment["DQLITE118_SCRIPT"], !override.isEmpty {
            path = override
        } else {
            // <root>/Sources/DqliteLocalCluster/Dqlite118Script.swift → <root>/scripts/dqlite118.sh
            let root = URL(fileURLWithPath: filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent()
            path = root.appendingPathComponent("scripts/dqlite118.sh").path
        }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw LocalClusterError(
                .generationUnavailable,
                "dqlite 1.18 nodes need scripts/dqlite118.sh, which is not at \(path) (set DQLITE118_SCRIPT)")
        }
        guard getuid() == 0 else {
            throw LocalClusterError(
                .generationUnavailable,
                "dqlite 1.18 nodes need root (dqlite118.sh uses mmdebstrap, unshare and chroot); uid is \(getuid())")
        }
        return Dqlite118Script(path: path)
    }

    /// Whether `setup` already succeeded in this process.
    private static let setupDone = Mutex(false)

    /// Builds or checks the cached chroot once per process (`dqlite118.sh setup`: about a minute the first
    /// time on a machine, instant afterwards). Concurrent callers are serialized by the script's own lock.
    func setup() async throws {
        guard !Self.setupDone.withLock({ $0 }) else { return }
        let result = try await run(["setup"])
        guard result.status == 0 else {
            throw LocalClusterError(
                .generationUnavailable,
                "dqlite118.sh setup failed (exit \(result.status)); the 1.18 chroot cannot be built:\n\(result.output)")
        }
        Self.setupDone.withLock { $0 = true }
    }

    /// `dqlite118.sh start`; returns once the node accepts connections.
    func start(id: UInt64, address: String, dataDirectory: String, networkLatencyMilliseconds: Int) async throws
        -> StartedNode
    {
        let result = try await run([
            "start", "--id", "\(id)", "--address", address, "--data", dataDirectory,
            "--network-latency-ms", "\(networkLatencyMilliseconds)", "--timeout", "60",
        ])
        guard result.status == 0,
            let line = result.output.split(separator: "\n").last(where: { $0.hasPrefix("dqlite118: ready ") })
        else {
            throw LocalClusterError(
                .nodeStart,
                "dqlite118.sh start of node \(id) at \(address) failed (exit \(result.status)):\n\(result.output)")
        }
        let fields = Self.fields(of: line)
        guard let pidText = fields["pid"], let pid = Int32(pidText) else {
            throw LocalClusterError(.script, "dqlite118.sh printed a ready line without pid: \(line)")
        }
        return StartedNode(pid: pid, libraryVersion: fields["libdqlite"] ?? "1.18")
    }

    /// `dqlite118.sh stop --address A` (SIGTERM, then SIGKILL after 15 s). If the script fails, the node
    /// process is killed directly, after checking that `pid` still is the dqlite-node for `address`.
    func stop(address: String, pid: Int32) async throws {
        let result = try await run(["stop", "--address", address])
        if result.status == 0 {
            removeRunFiles(address: address)
            return
        }
        if Self.isNodeProcess(pid, address: address) {
            kill(pid, SIGKILL)
        }
        throw LocalClusterError(
            .nodeStop, "dqlite118.sh stop --address \(address) failed (exit \(result.status)):\n\(result.output)")
    }

    /// Removes the script's per-address log and lock files (`$DQ118_RUN/<address>.log|.lock`) after a clean
    /// stop, so runs do not pile them up. Safe because the harness still holds the address's port
    /// reservation, so no other participant starts a node there meanwhile; kept when a stop failed.
    private func removeRunFiles(address: String) {
        let environment = ProcessInfo.processInfo.environment
        let runDirectory = environment["DQ118_RUN"].flatMap { $0.isEmpty ? nil : $0 } ?? "/run/dqlite-118"
        // The script's key_of: every character other than A-Z a-z 0-9 . becomes _.
        let key = String(
            address.unicodeScalars.map { scalar -> Character in
                let value = scalar.value
                let keep =
                    (value >= 0x30 && value <= 0x39) || (value >= 0x41 && value <= 0x5A)
                    || (value >= 0x61 && value <= 0x7A) || value == 0x2E
                return keep ? Character(scalar) : "_"
            })
        for suffix in [".log", ".lock"] {
            try? FileManager.default.removeItem(atPath: "\(runDirectory)/\(key)\(suffix)")
        }
    }

    /// True if `pid` runs `/usr/local/bin/dqlite-node … --address <address> …` (the script's own check).
    static func isNodeProcess(_ pid: Int32, address: String) -> Bool {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        guard arguments.first == "/usr/local/bin/dqlite-node" else { return false }
        return zip(arguments, arguments.dropFirst()).contains { $0 == "--address" && $1 == address }
    }

    /// `key=value` fields of a ready line.
    package static func fields(of line: Substring) -> [String: String] {
        var fields: [String: String] = [:]
        for word in line.split(separator: " ") {
            guard let equals = word.firstIndex(of: "=") else { continue }
            fields[String(word[..<equals])] = String(word[word.index(after: equals)...])
        }
        return fields
    }

    /// Runs the script with `arguments` on the blocking pool; returns its exit status and its stdout and
    /// stderr, interleaved.
    /// Not cancellable (``BlockingWork``): a started script always runs to its end, so no node is left
    /// half-started or running unrecorded.
    private func run(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        let path = self.path
        return try await BlockingWork.uncancellable {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = [path] + arguments
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            process.standardInput = FileHandle.nullDevice
            do {
                try process.run()
            } catch {
                throw LocalClusterError(.script, "cannot run \(path): \(error)")
            }
            // Read to EOF first (the script's output is small, but a full pipe would block it).
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return (process.terminationStatus, String(decoding: data, as: UTF8.self))
        }
    }
}
