import DqliteShellCore
import Foundation

/// Where the embedded node keeps its data and which address it uses.
struct EmbeddedNode {
    /// The file, inside the data directory, that remembers the node's address: raft records the address
    /// when the node bootstraps, so a restart must use the same one.
    static let addressFileName = "dqlite-shell.address"

    /// The data directory (absolute).
    let dataDirectory: String
    /// The node's address (an abstract Unix socket unless `--address` said otherwise).
    let address: String
    /// A `--memory` directory, removed at exit.
    let isTemporary: Bool

    /// Picks the directory and address: `--memory` makes a temporary directory; otherwise `--data`, or the
    /// state directory's `data`. The address is `--address`, else the one recorded in the directory, else
    /// a stable abstract socket derived from the directory's path.
    static func resolve(data: String?, memory: Bool, address: String?) throws -> EmbeddedNode {
        let environment = ProcessInfo.processInfo.environment
        if memory {
            let parent = environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
            var template = Array((parent + "/dqlite-shell-XXXXXX").utf8CString)
            let made = template.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.flatMap { mkdtemp($0) } }
            guard let made else {
                throw ShellCommandError(
                    "cannot create a temporary directory in \(parent): \(String(cString: strerror(errno)))")
            }
            let directory = String(cString: made)
            let name = "@dqlite-shell-\(getpid())-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
            return EmbeddedNode(dataDirectory: directory, address: address ?? name, isTemporary: true)
        }
        guard
            let directory = data
                ?? ShellPaths.stateDirectory(environment: environment).map(ShellPaths.defaultDataDirectory)
        else {
            throw ShellCommandError("neither XDG_STATE_HOME nor HOME is set: pass --data DIR or --memory")
        }
        let absolute = directory.hasPrefix("/") ? directory : FileManager.default.currentDirectoryPath + "/" + directory
        let recorded = try? String(contentsOfFile: absolute + "/" + addressFileName, encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        if let recorded, !recorded.isEmpty, let address, address != recorded {
            throw ShellCommandError(
                "the node in \(absolute) was created with address \(recorded); omit --address or pass that address")
        }
        let chosen =
            address ?? recorded.flatMap { $0.isEmpty ? nil : $0 }
            ?? ShellPaths.embeddedNodeAddress(dataDirectory: absolute)
        return EmbeddedNode(dataDirectory: absolute, address: chosen, isTemporary: false)
    }

    /// Records the address next to raft's files (once the node has started, so the directory exists).
    func recordAddress() {
        guard !isTemporary else { return }
        let path = dataDirectory + "/" + Self.addressFileName
        guard !FileManager.default.fileExists(atPath: path) else { return }
        try? (address + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// Removes a `--memory` directory.
    func removeIfTemporary() {
        guard isTemporary else { return }
        try? FileManager.default.removeItem(atPath: dataDirectory)
    }
}

/// A one-line error for a bad flag combination or a failed setup step.
struct ShellCommandError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
