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

/// LEADER over a raw socket with the codec.
func askLeader(_ address: String) async throws -> Response {
    let connection = try await RawWireConnection.connect(to: address)
    defer { connection.close() }
    return try await connection.request(.leader)
}

/// True if nothing accepts connections on `address`.
func isRefusingConnections(_ address: String) async -> Bool {
    do {
        let connection = try await RawWireConnection.connect(to: address, timeout: .seconds(1))
        connection.close()
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
