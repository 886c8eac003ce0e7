import DqliteWire
import DqliteWireJSON

/// One golden vector, read the way Tests/DqliteWireTests/TestData.swift reads it (format: Golden/README.md).
struct GoldenVector {
    enum Direction: String { case request, response }

    let id: String
    let file: String
    let direction: Direction
    let bytes: [UInt8]
    let expect: JSONValue
    let schema: UInt8
    let context: ResponseContext
    let canonical: Bool

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
        guard let source = json["source"], case .string(let text) = source, !text.isEmpty else {
            throw JSONError("\(file) \(id): no source")
        }
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
        let clusterFormat: ResponseContext.ClusterFormat
        switch json["context"]?["cluster_format"] {
        case .number("0")?: clusterFormat = .format0
        case .number("1")?: clusterFormat = .format1
        default: clusterFormat = .infer
        }
        context = ResponseContext(
            clusterFormat: clusterFormat, legacyHandshake: json["context"]?["legacy"] == .bool(true))
        canonical = json["canonical"] != .bool(false)
    }
}

/// The outcome of checking every vector of a folder.
struct GoldenReport {
    var passed = 0
    var failed = 0
    var decodeChecks = 0
    var encodeChecks = 0
    var decodeOnly = 0
    var files = 0
    var requestTypes: Set<UInt8> = []
    var responseTypes: Set<UInt8> = []
    var failures: [String] = []
}

enum Golden {
    /// Loads every `*.json` file of `directory` and checks each vector both ways, as GoldenVectorTests does.
    /// A file that cannot be read or parsed counts as one failed vector.
    static func check(directory: String) -> GoldenReport {
        var report = GoldenReport()
        let names: [String]
        do {
            names = try SystemIO.fileNames(in: directory, suffix: ".json")
        } catch {
            report.failed += 1
            report.failures.append("\(error)")
            return report
        }
        report.files = names.count
        var seen: Set<String> = []
        for name in names {
            let vectors: [GoldenVector]
            do {
                let document = try JSONValue(parsing: try SystemIO.readFile(directory + "/" + name))
                guard case .array(let items)? = document["vectors"] else {
                    throw JSONError("\(name): no \"vectors\" array")
                }
                vectors = try items.map { try GoldenVector($0, file: name) }
            } catch {
                report.failed += 1
                report.failures.append("\(name): \(error)")
                continue
            }
            for vector in vectors {
                var problems = check(vector)
                if !seen.insert(vector.id).inserted { problems.append("duplicate id") }
                if problems.isEmpty {
                    report.passed += 1
                } else {
                    report.failed += 1
                    report.failures.append("\(vector.file) \(vector.id): " + problems.joined(separator: "; "))
                }
                report.decodeChecks += 1
                if vector.canonical { report.encodeChecks += 1 } else { report.decodeOnly += 1 }
                if vector.bytes.count > 4 {
                    switch vector.direction {
                    case .request: report.requestTypes.insert(vector.bytes[4])
                    case .response: report.responseTypes.insert(vector.bytes[4])
                    }
                }
            }
        }
        return report
    }

    /// The problems found with one vector (empty when it passes).
    static func check(_ vector: GoldenVector) -> [String] {
        var problems: [String] = []
        // Decode: the bytes decode to exactly the recorded structure.
        do {
            let frame = try Frame(parsing: vector.bytes)
            let rendered: JSONValue
            switch vector.direction {
            case .request: rendered = try Request(decoding: frame).json(.exact)
            case .response: rendered = try Response(decoding: frame, context: vector.context).json(.exact)
            }
            if !rendered.isEquivalent(to: vector.expect) {
                problems.append("decoded \(clip(rendered.serialized)), expected \(clip(vector.expect.serialized))")
            }
        } catch {
            problems.append("decode threw \(error)")
        }
        // Encode: the recorded structure encodes to exactly the bytes (canonical vectors only).
        do {
            if vector.canonical {
                let encoded: [UInt8]
                switch vector.direction {
                case .request: encoded = try Request(json: vector.expect, schema: vector.schema).encoded()
                case .response: encoded = try Response(json: vector.expect).encoded()
                }
                if encoded != vector.bytes {
                    problems.append(mismatch(encoded, vector.bytes))
                }
            } else if vector.direction == .request {
                // Non-canonical: our (zero-padded) encoding may be shorter but must decode to the same request.
                let reencoded = try Request(json: vector.expect, schema: vector.schema).encoded()
                let ours = try Request(decoding: Frame(parsing: reencoded))
                let theirs = try Request(decoding: Frame(parsing: vector.bytes))
                if reencoded.count > vector.bytes.count || ours != theirs {
                    problems.append(
                        "non-canonical: our re-encoding decodes differently; " + mismatch(reencoded, vector.bytes))
                }
            }
        } catch {
            problems.append("encode threw \(error)")
        }
        return problems
    }
}

/// Where two frames differ: lengths, the first differing byte, and up to 32 bytes of each from just before it.
func mismatch(_ ours: [UInt8], _ expected: [UInt8]) -> String {
    let first =
        (0..<min(ours.count, expected.count)).first { ours[$0] != expected[$0] } ?? min(ours.count, expected.count)
    let from = max(0, first - 8)
    func window(_ bytes: [UInt8]) -> String {
        let end = min(bytes.count, from + 32)
        return from < end ? hex(Array(bytes[from..<end])) + (end < bytes.count ? "…" : "") : "(end)"
    }
    let whole = ours.count + expected.count <= 128
    return "encoded \(ours.count) bytes, expected \(expected.count); first difference at byte \(first)"
        + (whole
            ? ": encoded \(hex(ours)), expected \(hex(expected))"
            : "; from byte \(from): encoded \(window(ours)), expected \(window(expected))")
}

/// At most 400 characters of `text`.
func clip(_ text: String) -> String {
    text.count <= 400 ? text : String(text.prefix(400)) + "…(\(text.utf8.count) bytes)"
}

/// Lowercase hex.
func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count * 2)
    for byte in bytes {
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 0xF)])
    }
    return String(decoding: out, as: UTF8.self)
}
