import Dqlite
import Foundation
import Testing

@Suite("Node stores")
struct NodeStoreTests {
    func temporaryPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("dqlite-store-\(UUID().uuidString).json").path
    }

    @Test("a file store round-trips, writes atomically and leaves no temporary file")
    func roundTrip() async throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = FileNodeStore(path: path)
        #expect(try await store.nodes().isEmpty)  // missing file = empty
        let nodes = [
            DqliteNodeInfo(id: 1, address: try DqliteNodeAddress("10.0.0.1:9001"), role: .voter),
            DqliteNodeInfo(id: 2, address: try DqliteNodeAddress("[::1]:9002"), role: .standby),
            DqliteNodeInfo(id: 3, address: try DqliteNodeAddress("@n3"), role: .spare),
        ]
        try await store.setNodes(nodes)
        #expect(try await FileNodeStore(path: path).nodes() == nodes)
        let directory = (path as NSString).deletingLastPathComponent
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory).filter {
            $0.hasPrefix((path as NSString).lastPathComponent + ".tmp")
        }
        #expect(leftovers.isEmpty)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
    }

    @Test(
        "a corrupt or invalid file is an error, not an empty cluster",
        arguments: [
            "{not json", #"[{"id":1,"address":"0.0.0.0:9001","role":"voter"}]"#,
            #"[{"id":0,"address":"10.0.0.1:1","role":"voter"}]"#,
            #"[{"id":1,"address":"10.0.0.1:1","role":"king"}]"#, "",
        ])
    func invalidFile(_ content: String) async throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try content.write(toFile: path, atomically: true, encoding: .utf8)
        let error = try await #require(throws: DqliteError.self) { try await FileNodeStore(path: path).nodes() }
        #expect(error.code == .nodeStore)
    }

    @Test("an in-memory store from seeds")
    func seeds() async throws {
        let store = InMemoryNodeStore(seeds: [try DqliteNodeAddress("10.0.0.1:1"), try DqliteNodeAddress("10.0.0.2:1")])
        #expect(try await store.nodes().map(\.address.description) == ["10.0.0.1:1", "10.0.0.2:1"])
    }
}
