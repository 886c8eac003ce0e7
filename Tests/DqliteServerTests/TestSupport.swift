import Dqlite
import DqliteLocalCluster
import DqliteServer
import DqliteWire
import Foundation
import NIOPosix

/// A scratch directory and reserved loopback ports for one test; both released afterwards, also on throw.
func withScratch<Result>(
    ports count: Int = 1, isolation: isolated (any Actor)? = #isolation,
    _ body: (_ directory: String, _ ports: [UInt16]) async throws -> Result
) async throws -> Result {
    let reservations = try await LoopbackPorts.reserve(count: count)
    defer { reservations.forEach { $0.release() } }
    let directory = try await NIOThreadPool.singleton.runIfActive {
        var template = Array("/tmp/swift-dqlite-test-XXXXXX".utf8CString)
        return template.withUnsafeMutableBufferPointer { buffer -> String? in
            guard let base = buffer.baseAddress, let created = mkdtemp(base) else { return nil }
            return String(cString: created)
        }
    }
    guard let directory else { throw ScratchError.cannotCreateDirectory }
    do {
        let result = try await body(directory, reservations.map(\.port))
        try? await removeDirectory(directory)
        return result
    } catch {
        try? await removeDirectory(directory)
        throw error
    }
}

enum ScratchError: Error {
    case cannotCreateDirectory
}

/// An error thrown on purpose by test bodies.
struct ExpectedFailure: Error, Equatable {}

func removeDirectory(_ path: String) async throws {
    try await NIOThreadPool.singleton.runIfActive { try FileManager.default.removeItem(atPath: path) }
}

func directoryExists(_ path: String) async -> Bool {
    (try? await NIOThreadPool.singleton.runIfActive { () -> Bool in
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }) ?? false
}

/// One request to `address` on a connection of its own (the client's bare ``DqliteConnection``, no
/// discovery, no pool), closed afterwards.
func ask(_ request: Request, at address: String, connectTimeout: Duration = .seconds(5)) async throws -> Response {
    var configuration = DqliteConnection.Configuration()
    configuration.connectTimeout = connectTimeout
    return try await DqliteConnection.withConnection(to: try DqliteNodeAddress(address), configuration: configuration) {
        try await $0.call(request, timeout: .seconds(10))
    }
}

/// LEADER, on a connection of its own.
func askLeader(_ address: String) async throws -> Response {
    try await ask(.leader, at: address)
}

/// True if nothing accepts connections on `address`.
func isRefusingConnections(_ address: String) async -> Bool {
    var configuration = DqliteConnection.Configuration()
    configuration.connectTimeout = .seconds(1)
    do {
        let connection = try await DqliteConnection.connect(
            to: try DqliteNodeAddress(address), configuration: configuration)
        await connection.close()
        return false
    } catch {
        return true
    }
}

/// Milliseconds, for timing lines in the test log.
func milliseconds(_ duration: Duration) -> String {
    let (seconds, attoseconds) = duration.components
    let value = Double(seconds) * 1000 + Double(attoseconds) / 1e15
    return String(format: "%.1f ms", value)
}
