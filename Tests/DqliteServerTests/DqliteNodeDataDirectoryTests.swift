import DqliteServer
import Foundation
import Testing

@Suite("DqliteNode data directory")
struct DqliteNodeDataDirectoryTests {
    @Test("a missing data directory is created with its parents, and reported as an absolute path")
    func createsMissingDirectory() async throws {
        try await withScratch { directory, ports in
            let nested = directory + "/a/b/c"
            #expect(await !directoryExists(directory + "/a"))
            let node = try await DqliteNode(id: 1, address: "127.0.0.1:\(ports[0])", dataDirectory: nested + "/")
            #expect(await directoryExists(nested))
            #expect(node.dataDirectory.hasSuffix("/a/b/c"))
            #expect(node.dataDirectory.hasPrefix("/"))
            try await node.start()
            try await node.stop()
        }
    }

    @Test("a data directory path that is a file throws dataDirectory")
    func fileInsteadOfDirectory() async throws {
        try await withScratch { directory, ports in
            let file = directory + "/file"
            #expect(FileManager.default.createFile(atPath: file, contents: Data()))
            for path in [file, file + "/below"] {
                let error = await #expect(throws: DqliteNodeError.self) {
                    _ = try await DqliteNode(id: 1, address: "127.0.0.1:\(ports[0])", dataDirectory: path)
                }
                #expect(error?.code == .dataDirectory, "\(path)")
            }
        }
    }

    @Test("two nodes on one data directory: the second throws dataDirectoryInUse until the first stops")
    func directoryInUse() async throws {
        try await withScratch(ports: 2) { directory, ports in
            let first = try await DqliteNode(id: 1, address: "127.0.0.1:\(ports[0])", dataDirectory: directory)
            try await first.start()
            let error = await #expect(throws: DqliteNodeError.self) {
                _ = try await DqliteNode(id: 1, address: "127.0.0.1:\(ports[1])", dataDirectory: directory)
            }
            #expect(error?.code == .dataDirectoryInUse)
            try await first.stop()
            let second = try await DqliteNode(id: 1, address: "127.0.0.1:\(ports[1])", dataDirectory: directory)
            try await second.start()
            try await second.stop()
        }
    }

    @Test("an empty data directory path throws dataDirectory")
    func emptyPath() async throws {
        try await withScratch { _, ports in
            let error = await #expect(throws: DqliteNodeError.self) {
                _ = try await DqliteNode(id: 1, address: "127.0.0.1:\(ports[0])", dataDirectory: "")
            }
            #expect(error?.code == .dataDirectory)
        }
    }
}
