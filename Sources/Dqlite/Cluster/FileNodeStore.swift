import NIOPosix

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A node store in a JSON file, e.g. `[{"id":1,"address":"10.0.0.1:9001","role":"voter"}]`.
///
/// Writes are atomic and durable — a temporary file in the same directory, `fsync`, `rename`, then `fsync`
/// of the directory — so a crash leaves either the old or the new list, never a torn one. Loading validates
/// every entry and refuses a file that does not parse (``DqliteError/Code/nodeStore``) instead of silently
/// starting empty. File I/O runs on NIO's thread pool, never on the cooperative pool.
public final class FileNodeStore: DqliteNodeStore {
    /// The file's path.
    public let path: String

    /// A store at `path`. A missing file reads as an empty list.
    public init(path: String) { self.path = path }

    struct Entry: Codable {
        var id: UInt64
        var address: String
        var role: String
    }

    public func nodes() async throws -> [DqliteNodeInfo] {
        let path = self.path
        let data: [UInt8]? = try await NIOThreadPool.singleton.runIfActive { try FileNodeStore.readFile(path) }
        guard let data else { return [] }
        let entries: [Entry]
        do {
            entries = try JSONDecoder().decode([Entry].self, from: Data(data))
        } catch {
            throw DqliteError(.nodeStore, "node store \(path) is not a valid node list: \(error)", underlying: error)
        }
        return try entries.map { entry in
            guard entry.id != 0, let address = try? DqliteNodeAddress(entry.address), address.isDialable,
                let role = DqliteNodeRole(name: entry.role)
            else {
                throw DqliteError(
                    .nodeStore, "node store \(path) has an invalid entry: \(entry.id) \(entry.address) \(entry.role)")
            }
            return DqliteNodeInfo(id: entry.id, address: address, role: role)
        }
    }

    public func setNodes(_ nodes: [DqliteNodeInfo]) async throws {
        let entries = nodes.map {
            Entry(
                id: $0.id, address: $0.address.description, role: $0.role == .standby ? "standby" : $0.role.description)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = [UInt8](try encoder.encode(entries)) + [0x0A]
        let path = self.path
        try await NIOThreadPool.singleton.runIfActive { try FileNodeStore.writeAtomically(data, to: path) }
    }

    /// The file's bytes, or nil if it does not exist.
    static func readFile(_ path: String) throws -> [UInt8]? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        if descriptor < 0 {
            if errno == ENOENT { return nil }
            throw failure("cannot open \(path)")
        }
        defer { _ = close(descriptor) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { systemRead(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw failure("cannot read \(path)")
            }
            if count == 0 { return result }
            result += chunk[0..<count]
            guard result.count <= 16 << 20 else { throw DqliteError(.nodeStore, "node store \(path) is over 16 MiB") }
        }
    }

    /// temp file + fsync + rename + fsync(directory).
    static func writeAtomically(_ data: [UInt8], to path: String) throws {
        let directory = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        let temporary = "\(path).tmp-\(getpid())"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw failure("cannot create \(temporary)") }
        var written = 0
        while written < data.count {
            let count = data[written...].withUnsafeBytes { systemWrite(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                let error = failure("cannot write \(temporary)")
                _ = close(descriptor)
                _ = unlink(temporary)
                throw error
            }
            written += count
        }
        guard fsync(descriptor) == 0 else {
            let error = failure("cannot fsync \(temporary)")
            _ = close(descriptor)
            _ = unlink(temporary)
            throw error
        }
        _ = close(descriptor)
        guard rename(temporary, path) == 0 else {
            let error = failure("cannot rename \(temporary) to \(path)")
            _ = unlink(temporary)
            throw error
        }
        let directoryDescriptor = open(directory, O_RDONLY | O_CLOEXEC)
        if directoryDescriptor >= 0 {
            _ = fsync(directoryDescriptor)
            _ = close(directoryDescriptor)
        }
    }

    private static func failure(_ what: String) -> DqliteError {
        DqliteError(.nodeStore, "\(what): \(String(cString: strerror(errno)))")
    }
}

#if canImport(Glibc)
    private let systemRead = Glibc.read
    private let systemWrite = Glibc.write
#elseif canImport(Musl)
    private let systemRead = Musl.read
    private let systemWrite = Musl.write
#elseif canImport(Darwin)
    private let systemRead = Darwin.read
    private let systemWrite = Darwin.write
#endif
