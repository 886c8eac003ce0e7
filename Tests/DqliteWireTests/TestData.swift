import DqliteWire
import DqliteWireJSON
import DqliteWireTestSupport
import Foundation
import Testing

/// Files that live next to the tests.
enum TestData {
    /// `Tests/DqliteWireTests`.
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()

    static func url(_ relative: String) -> URL { directory.appendingPathComponent(relative) }

    static func contents(of folder: String, withExtension ext: String) -> [URL] {
        let urls =
            (try? FileManager.default.contentsOfDirectory(at: url(folder), includingPropertiesForKeys: nil)) ?? []
        return urls.filter { $0.pathExtension == ext }.sorted { $0.lastPathComponent < $1.lastPathComponent }
    }
}

extension GoldenVector: CustomTestStringConvertible {
    public var testDescription: String { id }

    /// Every vector of Golden/*.json.
    static func loadAll() throws -> [GoldenVector] {
        try TestData.contents(of: "Golden", withExtension: "json").flatMap { url in
            try GoldenVector.parseFile(Array(try Data(contentsOf: url)), name: url.lastPathComponent)
        }
    }
}

/// Lowercase hex, for failure messages.
func hex(_ bytes: [UInt8]) -> String {
    bytes.map { String(format: "%02x", $0) }.joined()
}

/// Bytes from hex written with optional spaces and `|` separators, as in protocol.md.
func unhex(_ text: String) -> [UInt8] {
    let cleaned = text.filter { $0.isHexDigit }
    return DqliteWireJSON.bytes(fromHex: String(cleaned)) ?? []
}
