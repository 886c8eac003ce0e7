import DqliteWire
import DqliteWireJSON
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

/// One golden vector (see Golden/README.md).
struct GoldenVector: CustomTestStringConvertible, Sendable {
    enum Direction: String, Sendable { case request, response }

    let id: String
    let file: String
    let direction: Direction
    let source: String
    let bytes: [UInt8]
    let expect: JSONValue
    let schema: UInt8
    let clusterFormat: ResponseContext.ClusterFormat
    let legacy: Bool
    let canonical: Bool

    var testDescription: String { id }

    var context: ResponseContext { ResponseContext(clusterFormat: clusterFormat, legacyHandshake: legacy) }

    static func loadAll() throws -> [GoldenVector] {
        try TestData.contents(of: "Golden", withExtension: "json").flatMap { url -> [GoldenVector] in
            let document = try JSONValue(parsing: Array(try Data(contentsOf: url)))
            guard case .array(let items)? = document["vectors"] else {
                throw JSONError("\(url.lastPathComponent): no \"vectors\" array")
            }
            return try items.map { try GoldenVector($0, file: url.lastPathComponent) }
        }
    }

    init(_ json: JSONValue, file: String) throws {
        func string(_ key: String) throws -> String {
            guard case .string(let s)? = json[key] else { throw JSONError("\(file): vector without \"\(key)\"") }
            return s
        }
        id = try string("id")
        self.file = file
        guard let direction = Direction(rawValue: try string("direction")) else {
            throw JSONError("\(file) \(id): bad direction")
        }
        self.direction = direction
        source = try string("source")
        guard let bytes = DqliteWireJSON.bytes(fromHex: try string("hex")) else {
            throw JSONError("\(file) \(id): bad hex")
        }
        self.bytes = bytes
        guard let expect = json["expect"] else { throw JSONError("\(file) \(id): no expect") }
        self.expect = expect
        if case .number(let text)? = json["schema"], let schema = UInt8(text) {
            self.schema = schema
        } else {
            schema = 0
        }
        switch json["context"]?["cluster_format"] {
        case .number("0")?: clusterFormat = .format0
        case .number("1")?: clusterFormat = .format1
        default: clusterFormat = .infer
        }
        legacy = json["context"]?["legacy"] == .bool(true)
        canonical = json["canonical"] != .bool(false)
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
